"""Tests of the docs generator (stdlib unittest; `make check-docs` runs them).

They read the description and the rendered pages, so they fail when an
operation, option, environment variable or error class of the description is
missing from the reference, or when an example call is not valid syntax in
its language (Python and Node examples are compiled).
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402


class ReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(generate.DESCRIPTION, encoding="utf-8") as f:
            cls.d = json.load(f)
        cls.pages = {k.split("/")[-1]: v for k, v in generate.render().items() if k.startswith("docs/reference/")}

    def test_every_operation_has_a_section_with_every_language(self):
        for op in self.d["operations"]:
            page = self.pages["teams.md" if op["api"] == "teams" else "admin.md"]
            start = page.index('<a id="%s"></a>' % generate.anchor(op))
            end = page.find("<a id=", start + 1)
            section = page[start:] if end < 0 else page[start:end]
            self.assertIn("`%s %s`" % (op["method"], op["path"]), section, op["id"])
            for p in op["params"]:
                self.assertIn("| `%s` | `%s` |" % (p["name"], p["names"]["node"]), section, op["id"])
            for _, lang in generate.LANGS:
                self.assertIn("| %s | <code>" % lang, section, (op["id"], lang))
            self.assertIn(op["names"]["c"]["function"], section)
        counts = self.d["counts"]
        self.assertEqual(self.pages["teams.md"].count('<a id="'), counts["teams"])
        self.assertEqual(self.pages["admin.md"].count('<a id="'), counts["admin"])

    def test_python_examples_compile(self):
        for op in self.d["operations"]:
            rows = dict(generate.calls(op))
            iters = dict(generate.iter_calls(op) or [])
            src = "def f(client, admin):\n    %s\n" % rows["python"]
            src += "async def g(client, admin):\n    %s\n" % rows["python_async"]
            if iters:
                src += "def h(client):\n    %s\n" % iters["python"]
                src += "async def i(client):\n    %s\n" % iters["python_async"]
            compile(src, op["id"], "exec")

    def test_node_examples_parse(self):
        body = []
        for op in self.d["operations"]:
            body.append("async function f_%s(client, admin) { %s }" % (op["id"].replace(".", "_"), dict(generate.calls(op))["node"]))
            iters = dict(generate.iter_calls(op) or [])
            if iters:
                # `{ ... }` stands for the reader's code: an empty block here.
                loop = iters["node"].replace("{ ... }", "{}")
                body.append("async function i_%s(client) { %s }" % (op["id"].replace(".", "_"), loop))
        with tempfile.NamedTemporaryFile("w", suffix=".mjs", delete=False) as f:
            f.write("\n".join(body) + "\n")
        try:
            r = subprocess.run(["node", "--check", f.name], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            os.unlink(f.name)

    def test_options_environment_and_errors_are_listed(self):
        options = self.pages["options.md"]
        for o in self.d["options"]:
            line = next(line for line in options.splitlines() if line.startswith("| `%s` |" % o["name"]))
            for lang in ("python", "node", "c", "kotlin"):
                if o["names"][lang]["name"]:
                    self.assertIn("`%s`" % o["names"][lang]["name"], line, (o["name"], lang))
        for v in self.d["environment"]:
            self.assertIn("| `%s` |" % v["name"], options)
        per_call = options[options.index("## Per-call options"):]
        for name in self.d["request_options"]["options"]:
            self.assertIn("| `%s` |" % name, per_call)
        for q in self.d["quotas"]:
            self.assertIn("| `%s` |" % q["name"], options)
        errors = self.pages["errors.md"]
        for e in self.d["errors"]:
            row = "| `%s` | %s |" % (e["name"], "`%s`" % e["parent"] if e["parent"] else "")
            self.assertIn(row, errors)
            if e["c_status"]:
                self.assertIn(e["c_status"]["name"], errors)
        for a in self.d["error_attributes"]:
            self.assertIn("| `%s` | `%s` |" % (a["name"], a["names"]["node"]), errors)
        for r in self.d["validation_rules"]:
            self.assertIn("| `%s` |" % r["rule"], errors)


if __name__ == "__main__":
    unittest.main()
