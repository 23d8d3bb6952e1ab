# SAM-translates template.yaml (no AWS calls) and evaluates its conditions for one parameter
# set: prints the resources a stack with those parameters gets, with their properties resolved.
# usage: render.py TEMPLATE PARAMETERS_JSON
import json, re, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

path, given = sys.argv[1], json.loads(sys.argv[2])
tpl = yaml_parse(open(path).read())
tpl["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"
params = tpl.get("Parameters", {})
unknown = set(given) - set(params)
assert not unknown, f"no such parameters: {unknown}"
values = {k: str(p.get("Default", "")) for k, p in params.items()}
values.update(given)
for k, p in params.items():
    if p.get("Type") == "CommaDelimitedList":
        values[k] = [x.strip() for x in values[k].split(",")]
values.update({"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
               "AWS::Partition": "aws", "AWS::StackName": "polyauth-test",
               "AWS::URLSuffix": "amazonaws.com"})
out = transform(tpl, values, NoManagedPolicies())
conditions = out.get("Conditions", {})

NO_VALUE = object()

def value(x):
    """Resolves the intrinsic functions a parameter decides; others are left as they are."""
    if isinstance(x, dict) and len(x) == 1:
        (fn, arg), = x.items()
        if fn == "Ref":
            return NO_VALUE if arg == "AWS::NoValue" else values.get(arg, x)
        if fn == "Fn::Join":
            parts = value(arg[1])
            return arg[0].join(str(p) for p in (parts if isinstance(parts, list) else [parts]))
        if fn == "Fn::If":
            return value(arg[1] if named(arg[0]) else arg[2])
        if fn == "Fn::Sub":
            text, names = (arg, {}) if isinstance(arg, str) else (arg[0], value(arg[1]))
            known = {**{k: v for k, v in values.items() if isinstance(v, str)}, **names}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: str(known.get(m.group(1), m.group(0))), text)
    if isinstance(x, list):
        return [v for v in (value(i) for i in x) if v is not NO_VALUE]
    if isinstance(x, dict):
        resolved = {k: value(v) for k, v in x.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}
    return x

def holds(x):
    (fn, arg), = x.items()
    if fn == "Fn::Equals":
        return value(arg[0]) == value(arg[1])
    if fn == "Fn::Not":
        return not holds(arg[0])
    if fn == "Fn::And":
        return all(holds(i) for i in arg)
    if fn == "Fn::Or":
        return any(holds(i) for i in arg)
    if fn == "Condition":
        return named(arg)
    raise ValueError(f"condition function {fn}")

def named(name):
    return holds(conditions[name])

live = {n: r for n, r in out["Resources"].items() if "Condition" not in r or named(r["Condition"])}
print(json.dumps({n: {"Type": r["Type"], "Properties": value(r.get("Properties", {}))} for n, r in live.items()}, default=str))
