#!/usr/bin/env python3
"""Checks of holdout2 and eval_ree.py that need no model, no torch and no ree binary:

    python3 -m unittest samples/sample-model/holdout2/test_holdout2.py     (from the repo root)

* the committed holdout2.jsonl and files/ are exactly what gen_holdout2.py writes;
* no holdout2 frame is one the train or eval generators use or could compose;
* every reference tool output is what tools.py returns, file texts included;
* eval_ree.py splits a session's records into user turns and scores them as eval.py.
"""
import json
import os
import subprocess
import sys
import tempfile
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, MODEL_DIR)

import eval_ree  # noqa: E402
import gen_holdout2  # noqa: E402
from tools import run_tool, tool_call_text  # noqa: E402


def committed_dialogues():
    with open(os.path.join(HERE, "holdout2.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class CommittedSet(unittest.TestCase):
    def test_reproduced_by_its_script(self):
        with tempfile.TemporaryDirectory() as tmp:
            out, files = os.path.join(tmp, "h.jsonl"), os.path.join(tmp, "files")
            subprocess.run([sys.executable, os.path.join(HERE, "gen_holdout2.py"), "--out", out, "--files-dir", files],
                           check=True)
            with open(out, "rb") as a, open(os.path.join(HERE, "holdout2.jsonl"), "rb") as b:
                self.assertEqual(a.read(), b.read())
            made = {os.path.relpath(os.path.join(r, n), files) for r, _, ns in os.walk(files) for n in ns}
            fixture = os.path.join(HERE, "files")
            committed = {os.path.relpath(os.path.join(r, n), fixture) for r, _, ns in os.walk(fixture) for n in ns}
            self.assertEqual(made, committed)
            for path in made:
                with open(os.path.join(files, path), "rb") as a, open(os.path.join(fixture, path), "rb") as b:
                    self.assertEqual(a.read(), b.read(), path)

    def test_reference_outputs_are_what_the_tools_return(self):
        fixture = os.path.join(HERE, "files")
        for d in committed_dialogues():
            for t in d["turns"]:
                if t["call"]:
                    self.assertEqual(run_tool(t["call"]["name"], t["call"]["arguments"], d["now"], d["files"]),
                                     t["tool_output"])
                if t["kind"] == "read_file" and t["tag"] != "missing":
                    with open(os.path.join(fixture, t["call"]["arguments"]["path"]), encoding="utf-8") as f:
                        self.assertEqual(f.read(), t["tool_output"])
                if t["kind"] == "read_file" and t["tag"] == "missing":
                    self.assertFalse(os.path.exists(os.path.join(fixture, t["call"]["arguments"]["path"])))
                if t["expect_in_answer"] is not None:
                    self.assertIn(t["expect_in_answer"], t["answer"])

    def test_every_kind_is_present(self):
        kinds = {t["kind"] for d in committed_dialogues() for t in d["turns"]}
        self.assertEqual(kinds, {"calc", "calc_followup", "recall", "now", "read_file", "smalltalk"})


class Phrasings(unittest.TestCase):
    def test_no_frame_can_be_composed_from_a_train_core(self):
        self.assertEqual(gen_holdout2.train_shaped(gen_holdout2.my_frames()), [])

    def test_shape_check_catches_a_composed_message(self):
        # A frame the train generator could write must be caught (the check can fail).
        frames = ["Hey, what is {e}?", "Okay. got it.", "Read {p} for me", "please compute {e} right away"]
        self.assertEqual({f for f, _ in gen_holdout2.train_shaped(frames)}, set(frames))
        self.assertEqual(gen_holdout2.train_shaped(["Read {p} for me please"]), [])  # two closers: not composable

    def test_no_frame_shared_with_eval(self):
        self.assertEqual(set(gen_holdout2.my_frames()) & set(gen_holdout2.eval_frames()), set())


def options(**kw):
    return types.SimpleNamespace(**{"real_now": False, "check_tokenization": False, **kw})


def record(kind, t_us, **body):
    return {"kind": kind, "t_us": t_us, "body": body}


class SessionScoring(unittest.TestCase):
    def session(self):
        call = tool_call_text("calc", {"expression": "12*7"})
        return {"records": [
            record("turn_start", 0, turn=0, role="system", content="S"),
            record("turn_end", 5, turn=0, stop_reason="eos", text="", steps=0),
            record("turn_start", 10, turn=1, role="user", content="What is 12 times 7?"),
            record("turn_end", 30, turn=1, stop_reason="tool_call", text=call, steps=12),
            record("tool_call", 31, index=0, name="calc", arguments='{"expression":"12*7"}', raw_text=call,
                   well_formed=True, parse_error=""),
            record("tool_result", 32, call_index=0, name="calc", output="84", status="ok"),
            record("turn_start", 33, turn=2, role="tool", content="84"),
            record("turn_end", 50, turn=2, stop_reason="eos", text="The result is 84.", steps=6),
            record("turn_start", 60, turn=3, role="user", content="Thanks!"),
            record("turn_end", 80, turn=3, stop_reason="eos", text="You're welcome!", steps=4),
        ]}

    def dialogue(self):
        return {"id": "x", "system": "S", "now": "", "files": {}, "turns": [
            {"kind": "calc", "user": "What is 12 times 7?", "call": {"name": "calc", "arguments": {"expression": "12*7"}},
             "tool_output": "84", "answer": "The result is 84.", "expect_in_answer": "84"},
            {"kind": "smalltalk", "user": "Thanks!", "call": None, "tool_output": None, "answer": "You're welcome!",
             "expect_in_answer": None}]}

    def test_turns_are_split_and_scored(self):
        args = options()
        recs = eval_ree.score_dialogue(args, self.dialogue(), self.session(), {"turns": 4})
        self.assertEqual(len(recs), 2)
        self.assertTrue(recs[0]["tool_call_ok"] and recs[0]["answer_ok"])
        self.assertEqual(recs[0]["calls"], 1)
        self.assertAlmostEqual(recs[0]["seconds"], 40e-6)
        self.assertFalse(recs[0]["protocol_difference"])
        self.assertTrue(recs[0]["tool_output_matches_reference"])
        self.assertTrue(recs[1]["no_tool_ok"])

    def test_a_wrong_answer_and_a_stray_call_fail(self):
        s = self.session()
        s["records"][7]["body"]["text"] = "The result is 841."
        s["records"][9]["body"]["text"] = tool_call_text("now", {})
        args = options()
        recs = eval_ree.score_dialogue(args, self.dialogue(), s, {"turns": 4})
        self.assertFalse(recs[0]["answer_ok"])
        self.assertFalse(recs[1]["no_tool_ok"])

    def test_message_eval_py_would_not_execute_is_a_protocol_difference(self):
        # The agent executes a call that follows text; eval.py would take the message as the answer.
        s = self.session()
        s["records"][3]["body"]["text"] = "Sure. " + s["records"][3]["body"]["text"]
        args = options()
        recs = eval_ree.score_dialogue(args, self.dialogue(), s, {"turns": 4})
        self.assertTrue(recs[0]["protocol_difference"])
        self.assertFalse(recs[0]["tool_call_ok"])

    def test_tool_output_other_than_tools_py_is_flagged(self):
        s = self.session()
        s["records"][5]["body"]["output"] = "84.0"
        recs = eval_ree.score_dialogue(options(), self.dialogue(), s, {"turns": 4})
        self.assertFalse(recs[0]["tool_outputs_like_tools_py"])
        self.assertFalse(recs[0]["tool_output_matches_reference"])
        self.assertTrue(recs[1]["tool_outputs_like_tools_py"])

    def test_noncanonical_generated_tokens_are_flagged(self):
        class FakeTokenizer:  # "encodes" a text as the code points of its characters
            def encode(self, text):
                return [ord(c) for c in text]

            def piece_to_id(self, piece):
                return 7 if piece == "<|end|>" else -1

        records = []
        for r in self.session()["records"]:
            if r["kind"] == "turn_end" and r["body"]["text"]:
                tokens = [ord(c) for c in r["body"]["text"]] + [7]
                if r["body"]["turn"] == 2:
                    tokens = [1] + tokens  # one extra token: not what the text encodes to
                records += [record("step", 0, turn=r["body"]["turn"], token=t) for t in tokens]
            records.append(r)
        s = {"records": records}
        recs = eval_ree.score_dialogue(options(check_tokenization=True, sp=FakeTokenizer()), self.dialogue(), s,
                                       {"turns": 4})
        self.assertEqual(recs[0]["noncanonical_messages"], [1])
        self.assertEqual(recs[1]["noncanonical_messages"], [])

    def test_agreement_counts_same_input_turns_only_until_inputs_differ(self):
        recs = eval_ree.score_dialogue(options(), self.dialogue(), self.session(), {"turns": 4})
        torch = [dict(r) for r in recs]
        torch[1] = dict(torch[1], first="Hello!", messages=["Hello!"])  # differs on turn 1
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write("".join(json.dumps(r) + "\n" for r in torch))
        try:
            a = eval_ree.agreement(recs, f.name)
            self.assertEqual(a["same_inputs"]["turns"], 2)
            self.assertEqual(a["same_inputs"]["first_message_identical"], 1)
            self.assertEqual(a["no_tool_ok"]["agree"], 1)
            recs[0]["tool_outputs_like_tools_py"] = False  # turn 0's tool output differed: turn 1 is not comparable
            a = eval_ree.agreement(recs, f.name)
            self.assertEqual(a["same_inputs"]["turns"], 1)
            self.assertEqual(a["same_inputs"]["turns_whole_turn_comparable"], 0)
        finally:
            os.remove(f.name)

    def test_mismatched_session_is_an_error(self):
        s = self.session()
        s["records"][8]["body"]["content"] = "Something else"
        args = options()
        with self.assertRaises(eval_ree.DialogueError):
            eval_ree.score_dialogue(args, self.dialogue(), s, {"turns": 4})


if __name__ == "__main__":
    unittest.main()
