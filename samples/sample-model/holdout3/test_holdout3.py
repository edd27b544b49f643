#!/usr/bin/env python3
"""Checks of holdout3 that need no model, no torch and no ree binary:

    python3 -m unittest samples/sample-model/holdout3/test_holdout3.py     (from the repo root)

* the committed holdout3.jsonl and files/ are exactly what gen_holdout3.py writes;
* every reference tool output is what tools.py returns, file texts included, and every
  reference answer carries the result it is scored on;
* every user message can be sent to `ree agent` as one chat line (eval_ree.py).
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, MODEL_DIR)

import eval_ree  # noqa: E402
import gen_holdout3  # noqa: E402
from tools import run_tool  # noqa: E402


def committed_dialogues():
    with open(os.path.join(HERE, "holdout3.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def tree(directory):
    return {os.path.relpath(os.path.join(r, n), directory) for r, _, ns in os.walk(directory) for n in ns}


class CommittedSet(unittest.TestCase):
    def test_reproduced_by_its_script(self):
        with tempfile.TemporaryDirectory() as tmp:
            out, files = os.path.join(tmp, "h.jsonl"), os.path.join(tmp, "files")
            subprocess.run([sys.executable, os.path.join(HERE, "gen_holdout3.py"), "--out", out, "--files-dir", files],
                           check=True)
            with open(out, "rb") as a, open(os.path.join(HERE, "holdout3.jsonl"), "rb") as b:
                self.assertEqual(a.read(), b.read())
            fixture = os.path.join(HERE, "files")
            self.assertEqual(tree(files), tree(fixture))
            for path in tree(files):
                with open(os.path.join(files, path), "rb") as a, open(os.path.join(fixture, path), "rb") as b:
                    self.assertEqual(a.read(), b.read(), path)

    def test_reference_outputs_are_what_the_tools_return(self):
        fixture = os.path.join(HERE, "files")
        for d in committed_dialogues():
            for t in d["turns"]:
                if t["call"]:
                    self.assertEqual(run_tool(t["call"]["name"], t["call"]["arguments"], d["now"], d["files"]),
                                     t["tool_output"])
                if t["kind"] == "read_file":
                    exists = os.path.exists(os.path.join(fixture, t["call"]["arguments"]["path"]))
                    self.assertEqual(exists, t["tag"] != "missing")
                    if exists:
                        with open(os.path.join(fixture, t["call"]["arguments"]["path"]), encoding="utf-8") as f:
                            self.assertEqual(f.read(), t["tool_output"])
                if t["expect_in_answer"] is not None:
                    self.assertIn(t["expect_in_answer"], t["answer"])

    def test_every_kind_is_present_and_messages_fit_one_chat_line(self):
        dialogues = committed_dialogues()
        kinds = {t["kind"] for d in dialogues for t in d["turns"]}
        self.assertEqual(kinds, {"calc", "calc_followup", "recall", "now", "read_file", "smalltalk"})
        for d in dialogues:
            eval_ree.stdin_text(d)  # raises on a message that is not one chat line

    def test_some_divisions_do_not_terminate(self):
        rounded = [t for d in committed_dialogues() for t in d["turns"] if t["tag"].endswith("+rounded")]
        self.assertGreater(len(rounded), 5)
        for t in rounded:
            self.assertEqual(len(t["tool_output"].split(".")[1]), 10, t["tool_output"])

    def test_no_frame_shared_with_holdout2(self):
        sys.path.insert(0, os.path.join(MODEL_DIR, "holdout2"))
        import gen_holdout2
        self.assertEqual(set(gen_holdout3.my_frames()) & set(gen_holdout2.my_frames()), set())


if __name__ == "__main__":
    unittest.main()
