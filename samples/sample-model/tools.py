"""The three tools of the ree sample assistant, as the data generator and the
evaluation execute them. The C++ agent implements the same behaviour:

calc {"expression": STRING}
    Integers and decimals, + - * / with the usual precedence, unary minus and
    parentheses. Arithmetic is exact (fractions). A terminating result is printed
    exactly as a plain decimal ("84", "-7", "3.75", no exponent, no trailing zeros);
    a non-terminating one is rounded half-even to 10 decimal places (trailing zeros
    dropped). Errors: "error: division by zero", "error: invalid expression".
now {}
    The current UTC time as YYYY-MM-DDTHH:MM:SSZ.
read_file {"path": STRING}
    The file's text; "error: no such file: PATH" when it does not exist.
Any other name or malformed arguments: "error: unknown tool: NAME" /
"error: invalid arguments".
"""
import json
from fractions import Fraction

MAX_EXPRESSION_CHARS = 200
MAX_NESTING = 32


class CalcError(Exception):
    pass


class _Parser:
    """Recursive descent over: expr = term (('+'|'-') term)*;
    term = factor (('*'|'/') factor)*; factor = ('+'|'-') factor | number | '(' expr ')'."""

    def __init__(self, text):
        self.text = text
        self.pos = 0
        self.depth = 0

    def parse(self):
        value = self.expr()
        self.skip_spaces()
        if self.pos != len(self.text):
            raise CalcError("error: invalid expression")
        return value

    def skip_spaces(self):
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def peek(self):
        self.skip_spaces()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expr(self):
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.text[self.pos]
            self.pos += 1
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self):
        value = self.factor()
        while self.peek() in ("*", "/"):
            op = self.text[self.pos]
            self.pos += 1
            rhs = self.factor()
            if op == "*":
                value = value * rhs
            elif rhs == 0:
                raise CalcError("error: division by zero")
            else:
                value = value / rhs
        return value

    def factor(self):
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise CalcError("error: invalid expression")
        c = self.peek()
        if c in ("+", "-"):
            self.pos += 1
            inner = self.factor()
            value = inner if c == "+" else -inner
        elif c == "(":
            self.pos += 1
            value = self.expr()
            if self.peek() != ")":
                raise CalcError("error: invalid expression")
            self.pos += 1
        else:
            value = self.number()
        self.depth -= 1
        return value

    def number(self):
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isdigit() and self.text[self.pos].isascii()):
            self.pos += 1
        if self.pos < len(self.text) and self.text[self.pos] == ".":
            self.pos += 1
            frac_start = self.pos
            while self.pos < len(self.text) and (self.text[self.pos].isdigit() and self.text[self.pos].isascii()):
                self.pos += 1
            if self.pos == frac_start:
                raise CalcError("error: invalid expression")
        literal = self.text[start:self.pos]
        if literal in ("", "."):
            raise CalcError("error: invalid expression")
        return Fraction(literal)


def format_fraction(value):
    """Exact decimal when the denominator has only the factors 2 and 5, else rounded
    half-even to 10 places; never an exponent, never trailing zeros, never "-0"."""
    num, den = value.numerator, value.denominator
    rest, twos, fives = den, 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest == 1:
        scale = max(twos, fives)
        magnitude = abs(num) * 10 ** scale // den  # exact: den divides 10**scale
    else:
        scale = 10
        magnitude, remainder = divmod(abs(num) * 10 ** scale, den)
        if 2 * remainder > den or (2 * remainder == den and magnitude % 2 == 1):
            magnitude += 1
    digits = str(magnitude).rjust(scale + 1, "0")
    whole, frac = digits[:len(digits) - scale], digits[len(digits) - scale:].rstrip("0")
    sign = "-" if num < 0 and magnitude != 0 else ""
    return sign + whole + ("." + frac if frac else "")


def calc(expression):
    if not isinstance(expression, str) or len(expression) > MAX_EXPRESSION_CHARS:
        return "error: invalid expression"
    try:
        return format_fraction(_Parser(expression).parse())
    except CalcError as e:
        return str(e)


def calc_value(expression):
    """The exact Fraction an expression denotes, or None when calc would fail."""
    try:
        return _Parser(expression).parse()
    except (CalcError, TypeError):
        return None


def run_tool(name, arguments, now_utc, files):
    """Execute one call. now_utc: the time string `now` reports; files: path -> text."""
    if not isinstance(arguments, dict):
        return "error: invalid arguments"
    if name == "calc":
        if set(arguments) != {"expression"}:
            return "error: invalid arguments"
        return calc(arguments["expression"])
    if name == "now":
        return now_utc if not arguments else "error: invalid arguments"
    if name == "read_file":
        if set(arguments) != {"path"} or not isinstance(arguments["path"], str):
            return "error: invalid arguments"
        path = arguments["path"]
        return files[path] if path in files else f"error: no such file: {path}"
    return f"error: unknown tool: {name}"


def tool_call_text(name, arguments):
    """The exact assistant content of a tool call (json.dumps default separators)."""
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"


def parse_tool_call(content):
    """(name, arguments) when content is one well-formed call, else None.
    Well-formed: starts with <tool_call>, ends with </tool_call>, the inside is a JSON
    object with exactly the keys name (string) and arguments (object)."""
    if not (content.startswith("<tool_call>") and content.endswith("</tool_call>")):
        return None
    inner = content[len("<tool_call>"):-len("</tool_call>")]
    try:
        obj = json.loads(inner)
    except ValueError:
        return None
    if not isinstance(obj, dict) or set(obj) != {"name", "arguments"}:
        return None
    if not isinstance(obj["name"], str) or not isinstance(obj["arguments"], dict):
        return None
    return obj["name"], obj["arguments"]
