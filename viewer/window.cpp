// GLFW window, OpenGL context, ImGui backends, offscreen capture (window.h).
#define GLFW_INCLUDE_NONE
#include "window.h"

#include <GL/gl.h>
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>

#include <cstring>
#include <filesystem>

#include "runtime/error.h"

namespace ree::viewer {
namespace {

// Framebuffer-object entry points (OpenGL 3.0): libGL exports only GL 1.x
// symbols portably, so these come from the context, like the ImGui backend's.
constexpr GLenum kFramebuffer = 0x8D40;
constexpr GLenum kRenderbuffer = 0x8D41;
constexpr GLenum kColourAttachment0 = 0x8CE0;
constexpr GLenum kFramebufferComplete = 0x8CD5;
constexpr GLenum kRgba8 = 0x8058;

struct FramebufferApi {
  void (*gen_framebuffers)(GLsizei, GLuint*) = nullptr;
  void (*bind_framebuffer)(GLenum, GLuint) = nullptr;
  void (*gen_renderbuffers)(GLsizei, GLuint*) = nullptr;
  void (*bind_renderbuffer)(GLenum, GLuint) = nullptr;
  void (*renderbuffer_storage)(GLenum, GLenum, GLsizei, GLsizei) = nullptr;
  void (*framebuffer_renderbuffer)(GLenum, GLenum, GLenum, GLuint) = nullptr;
  GLenum (*check_framebuffer_status)(GLenum) = nullptr;
  void (*delete_framebuffers)(GLsizei, const GLuint*) = nullptr;
  void (*delete_renderbuffers)(GLsizei, const GLuint*) = nullptr;
};

template <typename Fn>
void load(Fn& fn, const char* name) {
  fn = reinterpret_cast<Fn>(glfwGetProcAddress(name));
  if (!fn) throw Error(std::string("ree-view: OpenGL lacks ") + name + " (OpenGL 3.0 is required)");
}

FramebufferApi load_framebuffer_api() {
  FramebufferApi api;
  load(api.gen_framebuffers, "glGenFramebuffers");
  load(api.bind_framebuffer, "glBindFramebuffer");
  load(api.gen_renderbuffers, "glGenRenderbuffers");
  load(api.bind_renderbuffer, "glBindRenderbuffer");
  load(api.renderbuffer_storage, "glRenderbufferStorage");
  load(api.framebuffer_renderbuffer, "glFramebufferRenderbuffer");
  load(api.check_framebuffer_status, "glCheckFramebufferStatus");
  load(api.delete_framebuffers, "glDeleteFramebuffers");
  load(api.delete_renderbuffers, "glDeleteRenderbuffers");
  return api;
}

// Debian's fonts-dejavu-core; without it ImGui's built-in font is used.
constexpr const char* kSansFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
constexpr const char* kMonoFont = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
constexpr float kFontPixels = 15.0f;

// Latin, general punctuation, arrows and block elements: what token pieces
// and the interface use.
const ImWchar kGlyphRanges[] = {0x0020, 0x024F, 0x2000, 0x206F, 0x2190, 0x21FF, 0x2500, 0x259F, 0};

void error_callback(int, const char*) {}  // failures are reported by the calls that fail

}  // namespace

Window::Window(const WindowOptions& options) : options_(options) {
  glfwSetErrorCallback(error_callback);
  if (!glfwInit()) {
    const char* reason = nullptr;
    glfwGetError(&reason);
    throw Error(std::string("ree-view: cannot open a window: ") + (reason ? reason : "GLFW failed to initialise") +
                " (no display? headless use: xvfb-run -a ree-view --screenshot ...)");
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  glfwWindowHint(GLFW_VISIBLE, options.offscreen ? GLFW_FALSE : GLFW_TRUE);
  window_ = glfwCreateWindow(options.width, options.height, options.title.c_str(), nullptr, nullptr);
  if (!window_) {
    const char* reason = nullptr;
    glfwGetError(&reason);
    glfwTerminate();
    throw Error(std::string("ree-view: cannot create an OpenGL 3 window: ") + (reason ? reason : "unknown reason"));
  }
  glfwMakeContextCurrent(window_);
  glfwSwapInterval(1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  imgui_context_ = true;
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no imgui.ini next to the user's files
  ImGui::StyleColorsDark();
  ImGuiStyle& style = ImGui::GetStyle();
  style.WindowRounding = 0.0f;
  style.ChildRounding = 3.0f;
  style.FrameRounding = 3.0f;
  style.WindowBorderSize = 0.0f;
  style.ItemSpacing = ImVec2(8, 5);
  load_fonts();
  glfw_backend_ = ImGui_ImplGlfw_InitForOpenGL(window_, true);
  gl_backend_ = ImGui_ImplOpenGL3_Init("#version 130");
  if (!glfw_backend_ || !gl_backend_) throw Error("ree-view: cannot initialise the ImGui GLFW/OpenGL3 backends");
  if (options.offscreen) create_offscreen_target();
}

Window::~Window() {
  if (framebuffer_ || colour_buffer_) {
    try {
      const FramebufferApi api = load_framebuffer_api();
      api.delete_framebuffers(1, &framebuffer_);
      api.delete_renderbuffers(1, &colour_buffer_);
    } catch (...) {
    }
  }
  if (gl_backend_) ImGui_ImplOpenGL3_Shutdown();
  if (glfw_backend_) ImGui_ImplGlfw_Shutdown();
  if (imgui_context_) ImGui::DestroyContext();
  if (window_) glfwDestroyWindow(window_);
  glfwTerminate();
}

void Window::load_fonts() {
  ImGuiIO& io = ImGui::GetIO();
  ImFontConfig config;
  config.OversampleH = 2;
  if (std::filesystem::exists(kSansFont)) fonts_.ui = io.Fonts->AddFontFromFileTTF(kSansFont, kFontPixels, &config, kGlyphRanges);
  if (!fonts_.ui) fonts_.ui = io.Fonts->AddFontDefault();
  if (std::filesystem::exists(kMonoFont)) fonts_.mono = io.Fonts->AddFontFromFileTTF(kMonoFont, kFontPixels - 1, &config, kGlyphRanges);
  if (!fonts_.mono) fonts_.mono = fonts_.ui;
  io.FontDefault = fonts_.ui;
  io.Fonts->Build();
}

void Window::create_offscreen_target() {
  const FramebufferApi api = load_framebuffer_api();
  api.gen_framebuffers(1, &framebuffer_);
  api.bind_framebuffer(kFramebuffer, framebuffer_);
  api.gen_renderbuffers(1, &colour_buffer_);
  api.bind_renderbuffer(kRenderbuffer, colour_buffer_);
  api.renderbuffer_storage(kRenderbuffer, kRgba8, options_.width, options_.height);
  api.framebuffer_renderbuffer(kFramebuffer, kColourAttachment0, kRenderbuffer, colour_buffer_);
  if (api.check_framebuffer_status(kFramebuffer) != kFramebufferComplete)
    throw Error("ree-view: cannot create an offscreen framebuffer of " + std::to_string(options_.width) + "x" +
                std::to_string(options_.height));
}

bool Window::should_close() const { return glfwWindowShouldClose(window_); }

void Window::begin_frame(bool wait) {
  if (wait)
    glfwWaitEventsTimeout(0.5);
  else
    glfwPollEvents();
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  if (options_.offscreen) {
    // A hidden window may report another size: draw at the requested one.
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(static_cast<float>(options_.width), static_cast<float>(options_.height));
    io.DisplayFramebufferScale = ImVec2(1.0f, 1.0f);
  }
  ImGui::NewFrame();
}

void Window::end_frame(Image* capture) {
  ImGui::Render();
  int width = options_.width;
  int height = options_.height;
  if (!options_.offscreen) glfwGetFramebufferSize(window_, &width, &height);
  glViewport(0, 0, width, height);
  glClearColor(0.08f, 0.09f, 0.11f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
  if (capture) {
    capture->width = width;
    capture->height = height;
    capture->channels = 4;
    capture->pixels.resize(static_cast<size_t>(width) * height * 4);
    std::vector<uint8_t> bottom_up(capture->pixels.size());
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, bottom_up.data());
    // OpenGL's rows run bottom to top; PNG's top to bottom.
    const size_t stride = static_cast<size_t>(width) * 4;
    for (int y = 0; y < height; ++y)
      std::memcpy(capture->pixels.data() + y * stride, bottom_up.data() + (height - 1 - y) * stride, stride);
    // The clear colour and ImGui's windows are opaque: make alpha opaque too.
    for (size_t i = 3; i < capture->pixels.size(); i += 4) capture->pixels[i] = 255;
  }
  if (!options_.offscreen) glfwSwapBuffers(window_);
}

}  // namespace ree::viewer
