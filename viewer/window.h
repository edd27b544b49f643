#pragma once
// The platform side of ree-view: a GLFW window with an OpenGL 3 context and
// Dear ImGui's GLFW and OpenGL3 backends (compiled into Debian's
// libimgui.a). For --screenshot the window stays hidden and every frame is
// drawn into an offscreen framebuffer of the requested size, so the image
// does not depend on the X screen's size or on the window being mapped.
#include <string>

#include "png_writer.h"

struct GLFWwindow;
struct ImFont;

namespace ree::viewer {

struct WindowOptions {
  int width = 1600;
  int height = 1000;
  bool offscreen = false;  // hidden window, frames drawn into a framebuffer object
  std::string title = "ree-view";
};

struct Fonts {
  ImFont* ui = nullptr;    // proportional text
  ImFont* mono = nullptr;  // hashes and ids
};

class Window {
 public:
  // Throws ree::Error when no window or GL context can be created (no
  // display, no OpenGL 3).
  explicit Window(const WindowOptions& options);
  ~Window();
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  const Fonts& fonts() const { return fonts_; }
  bool should_close() const;
  // Polls input (or, when `wait`, sleeps until some arrives) and starts an
  // ImGui frame.
  void begin_frame(bool wait);
  // Renders the frame; with `capture`, reads it back into `image` (RGBA, top
  // row first) before presenting.
  void end_frame(Image* capture = nullptr);

 private:
  void load_fonts();
  void create_offscreen_target();

  WindowOptions options_;
  GLFWwindow* window_ = nullptr;
  Fonts fonts_;
  unsigned framebuffer_ = 0;
  unsigned colour_buffer_ = 0;
  bool imgui_context_ = false;
  bool glfw_backend_ = false;
  bool gl_backend_ = false;
};

}  // namespace ree::viewer
