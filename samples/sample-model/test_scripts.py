#!/usr/bin/env python3
"""Checks of the sample-model scripts that need no torch, no GPU and no sentencepiece:

    python3 -m unittest samples/sample-model/test_scripts.py     (from the repo root)

* the committed held-out set is exactly what gen_data.py produces for it;
* no train user message matches a held-out (eval) frame, no train path holds a held-out
  file stem, and no holdout3 frame is produced for its intent;
* train dialogues: tool outputs are tools.py's, answers repeat them verbatim;
* calc's arithmetic and output format, the tool-call text and its parser.
"""
import json
import os
import subprocess
import sys
import unittest
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gen_data  # noqa: E402
import train_dialogues  # noqa: E402
import train_phrasing  # noqa: E402
import train_text  # noqa: E402
from tools import calc, format_fraction, parse_tool_call, run_tool, tool_call_text  # noqa: E402


class HeldOutSet(unittest.TestCase):
    def test_eval_file_is_reproduced_by_its_script(self):
        out = subprocess.run([sys.executable, os.path.join(HERE, "gen_data.py"), "--seed", "2", "--n", "500",
                              "--split", "eval"], capture_output=True, check=True).stdout
        with open(os.path.join(HERE, "data", "eval.jsonl"), "rb") as f:
            self.assertEqual(out, f.read())

    def test_train_messages_never_match_an_eval_frame(self):
        frames = (gen_data.CALC_FRAMES["eval"] + [f for f, _ in gen_data.FOLLOWUP_FRAMES["eval"]]
                  + [f for f, _ in gen_data.FOLLOWUP_VERBS["eval"]] + gen_data.RECALL_FRAMES["eval"]
                  + gen_data.NOW_FRAMES["eval"] + gen_data.READ_FRAMES["eval"]
                  + [q for c in gen_data.SMALLTALK.values() for q in c[1]] + [f[1] for f in gen_data.FACTS])
        users = [t["user"] for d in gen_data.generate(7, 5000, "train") for t in d["turns"]]
        self.assertEqual(train_phrasing.check_disjoint(users, frames), [])

    def test_train_paths_avoid_held_out_stems(self):
        paths = [t["call"]["arguments"]["path"] for d in gen_data.generate(8, 5000, "train")
                 for t in d["turns"] if t["kind"] == "read_file"]
        self.assertGreater(len(paths), 1000)
        self.assertTrue(set(gen_data.FILE_STEMS["eval"]) <= train_text.HELD_OUT_WORDS)
        for p in paths:
            self.assertFalse(any(s in p.lower() for s in train_text.HELD_OUT_WORDS), p)
        self.assertEqual(set(train_text.WORDS) & train_text.HELD_OUT_WORDS, set())


class TrainSplit(unittest.TestCase):
    def test_dialogues_do_not_depend_on_the_range_generated(self):
        whole = train_dialogues.generate(5, 40)
        self.assertEqual(train_dialogues.generate(5, 40, 25), whole[25:])
        self.assertEqual(gen_data.generate(5, 40, "train"), whole)

    def test_tool_outputs_and_answers(self):
        kinds = set()
        for d in gen_data.generate(12, 3000, "train"):
            for t in d["turns"]:
                kinds.add(t["kind"])
                if t["call"]:
                    self.assertEqual(run_tool(t["call"]["name"], t["call"]["arguments"], d["now"], d["files"]),
                                     t["tool_output"])
                    self.assertNotEqual(t["tool_output"], "error: invalid expression", t)
                if t["expect_in_answer"] is not None:
                    self.assertIn(t["expect_in_answer"], t["answer"])  # the answer repeats the result verbatim
                if t["kind"] == "read_file" and not t["tool_output"].startswith("error: "):
                    self.assertIn('"' + t["tool_output"].rstrip("\n") + '"', t["answer"])
                if t["kind"] in ("smalltalk", "recall"):
                    self.assertIsNone(t["call"])
                self.assertNotIn("\n", t["user"])  # one chat line per user message
        self.assertEqual(kinds, {"calc", "calc_followup", "recall", "now", "read_file", "smalltalk"})

    def test_no_holdout3_frame_is_produced_for_its_intent(self):
        sys.path.insert(0, os.path.join(HERE, "holdout3"))
        import gen_holdout3
        frames = {k: [] for k in ("calc", "calc_followup", "recall", "now", "read_file", "smalltalk")}
        frames["calc"] = gen_holdout3.CALC_FRAMES
        frames["calc_followup"] = gen_holdout3.FOLLOWUP_OP_FRAMES + [f for f, _ in gen_holdout3.FOLLOWUP_VERB_FRAMES]
        frames["recall"], frames["now"] = gen_holdout3.RECALL_FRAMES, gen_holdout3.NOW_FRAMES
        frames["read_file"] = gen_holdout3.READ_FRAMES
        frames["smalltalk"] = [u for users, _ in gen_holdout3.SMALLTALK.values() for u in users
                               if len(u) > 3 and u not in ("Evening!",)]  # a random word + "!" may be "Evening!"
        hits = set()
        for d in gen_data.generate(13, 3000, "train"):
            for t in d["turns"]:
                for f in frames[t["kind"]]:
                    if gen_holdout3.frame_regex(f).fullmatch(t["user"]):
                        hits.add(f)
        self.assertEqual(hits, set())

    def test_reference_answers_carry_the_tool_result(self):
        for d in gen_data.generate(9, 2000, "eval"):
            for t in d["turns"]:
                if t["call"]:
                    self.assertEqual(run_tool(t["call"]["name"], t["call"]["arguments"], d["now"], d["files"]),
                                     t["tool_output"])
                if t["expect_in_answer"] is not None:
                    self.assertIn(t["expect_in_answer"], t["answer"])


class Calc(unittest.TestCase):
    def test_exact_results(self):
        cases = {"12*7": "84", "12.5/4": "3.125", "5-12": "-7", "(12+3)*4": "60", "2*-3": "-6",
                 "0.1+0.2": "0.3", "1/8": "0.125", "-(2.50)": "-2.5", "1/3*3": "1", "12 * 7": "84",
                 "100000000000*100000000000": "10000000000000000000000"}
        for expression, want in cases.items():
            self.assertEqual(calc(expression), want, expression)

    def test_non_terminating_results_round_half_even_to_10_places(self):
        self.assertEqual(calc("10/3"), "3.3333333333")
        self.assertEqual(calc("2/3"), "0.6666666667")
        self.assertEqual(format_fraction(Fraction(1, 3 * 10 ** 11)), "0")
        self.assertEqual(format_fraction(Fraction(-1, 3 * 10 ** 11)), "0")

    def test_errors(self):
        for expression in ["1/0", "(1-1)/(2-2)"]:
            self.assertEqual(calc(expression), "error: division by zero")
        for expression in ["", "()", "1e5", "5.", "((1)", "1+", "abc", "1" * 300, None]:
            self.assertEqual(calc(expression), "error: invalid expression", expression)
        self.assertEqual(calc("(" * 100 + "1" + ")" * 100), "error: invalid expression")


class ToolCalls(unittest.TestCase):
    def test_text_uses_json_dumps_default_separators(self):
        self.assertEqual(tool_call_text("calc", {"expression": "12*7"}),
                         '<tool_call>{"name": "calc", "arguments": {"expression": "12*7"}}</tool_call>')
        self.assertEqual(tool_call_text("now", {}), '<tool_call>{"name": "now", "arguments": {}}</tool_call>')

    def test_parse(self):
        self.assertEqual(parse_tool_call(tool_call_text("read_file", {"path": "a.txt"})),
                         ("read_file", {"path": "a.txt"}))
        for bad in ["hello", "<tool_call>{}</tool_call>", '<tool_call>{"name": 1, "arguments": {}}</tool_call>',
                    '<tool_call>{"name": "now"}</tool_call>', '<tool_call>{"name": "now", "arguments": {}}',
                    '<tool_call>{"name": "now", "arguments": []}</tool_call>', "<tool_call>{</tool_call>"]:
            self.assertIsNone(parse_tool_call(bad), bad)

    def test_run_tool(self):
        files = {"notes.txt": "Hi."}
        self.assertEqual(run_tool("now", {}, "2026-11-22T06:31:05Z", files), "2026-11-22T06:31:05Z")
        self.assertEqual(run_tool("read_file", {"path": "notes.txt"}, "", files), "Hi.")
        self.assertEqual(run_tool("read_file", {"path": "x"}, "", files), "error: no such file: x")
        self.assertEqual(run_tool("calc", {"expr": "1"}, "", files), "error: invalid arguments")
        self.assertEqual(run_tool("rm", {}, "", files), "error: unknown tool: rm")


if __name__ == "__main__":
    unittest.main()
