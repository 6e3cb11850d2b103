"""Evaluate an ONNX model with python3-onnx's reference evaluator.

    run_ref.py MODEL.onnx ROWS.csv [--drop COLUMN] [--text COLUMN,...]

The same input and output as run_ort.js: ROWS.csv's columns but --drop,
in file order, --text ones as texts ("input_text"), the others as floats
("input"; empty, NA, N/A, null, ?, NaN: missing -> NaN); one line per
row, "label,p_0,..." or "value". The evaluator is onnx.reference's
(onnx >= 1.13), else onnx_numpy.py beside this script."""
import csv
import sys

import numpy as np
import onnx

try:
    from onnx.reference import ReferenceEvaluator

    def evaluate(model, feeds):
        return ReferenceEvaluator(model).run(None, feeds)
except ImportError:
    # before onnx 1.13: a small numpy interpreter of the operators mlpc writes
    import os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from onnx_numpy import run as evaluate

MISSING = {"", "NA", "N/A", "null", "?", "NaN", "nan"}


def main():
    args = sys.argv[1:]
    opts = {"--drop": None, "--text": ""}
    for o in opts:
        if o in args:
            i = args.index(o)
            opts[o] = args[i + 1]
            del args[i:i + 2]
    text = opts["--text"].split(",") if opts["--text"] else []
    model, rows = args
    with open(rows, newline="") as f:
        r = list(csv.reader(f))
    keep = [i for i, h in enumerate(r[0]) if h != opts["--drop"] and h not in text]
    strs = [i for i, h in enumerate(r[0]) if h in text]
    feeds = {}
    if keep:
        feeds["input"] = np.array([[np.nan if row[i].strip() in MISSING else float(row[i]) for i in keep]
                                   for row in r[1:]], dtype=np.float32)
    if strs:
        feeds["input_text"] = np.array([[row[i] for i in strs] for row in r[1:]], dtype=object)
    m = onnx.load(model)
    out = dict(zip([o.name for o in m.graph.output], evaluate(m, feeds)))
    if "value" in out:
        for v in out["value"][:, 0]:
            print(f"{v:.9g}")
    else:
        for label, p in zip(out["label"], out["probabilities"]):
            print(",".join([str(int(label))] + [f"{v:.9g}" for v in p]))


main()
