"""The ree-sample-v1 chat template, at the token level (the C++ agent implements the
same thing; chat_template.txt beside the model holds just the name).

A conversation is [BOS] followed, for each message in order, by
    encode("<|" + role + "|>") + encode(content) + [END]
with role one of system, user, assistant, tool; END is the id of <|end|>; each
segment is encoded on its own and the pieces are concatenated (no newlines added).
To generate an assistant message the prompt is the conversation so far followed by
encode("<|assistant|>"); the model writes the content and stops with END.
"""
TEMPLATE_NAME = "ree-sample-v1"
ROLES = ("system", "user", "assistant", "tool")
SPECIAL_SYMBOLS = ["<|system|>", "<|user|>", "<|assistant|>", "<|tool|>", "<|end|>",
                   "<tool_call>", "</tool_call>"]


def end_id(sp):
    return sp.piece_to_id("<|end|>")


def role_header(sp, role):
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return sp.encode("<|" + role + "|>")


def encode_conversation(sp, messages):
    """(ids, loss_mask): loss_mask[i] is 1 where ids[i] is an assistant content token
    or the END that closes an assistant message, i.e. what the model must produce."""
    ids, mask = [sp.bos_id()], [0]
    end = end_id(sp)
    for message in messages:
        header = role_header(sp, message["role"])
        content = sp.encode(message["content"]) + [end]
        ids += header + content
        is_assistant = 1 if message["role"] == "assistant" else 0
        mask += [0] * len(header) + [is_assistant] * len(content)
    return ids, mask


def generation_prompt(sp, messages):
    """Token ids that ask the model for the next assistant message."""
    ids, _ = encode_conversation(sp, messages)
    return ids + role_header(sp, "assistant")
