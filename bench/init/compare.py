#!/usr/bin/env python3
"""`mlpc init`'s spec against the hand-written example, on the same splits.

For each example data set: `mlpc init` writes a spec; that spec and the
example's are trained on five splits (the example's fractions, seeds 1-5,
the same rows for both) and the test metric is compared split by split.
Prints mean ± standard deviation of each and of their difference.

    bench/init/compare.py [NAME ...]     (default: every example; run from the
                                          repository root after `make`)
"""
import json, os, re, statistics, subprocess, sys, tempfile

ROOT = os.getcwd()
MLPC = os.environ.get("MLPC", os.path.join(ROOT, "build", "mlpc"))


def test_metric(run, key):
    with open(os.path.join(run, "manifest.json")) as f:
        return json.load(f)["jobs"][0]["metrics"]["test"][key]


def with_split(spec_text, split_args, seed):
    """The spec with its split made split_args seeded by seed."""
    args = re.sub(r",\s*seed\s*=\s*\d+", "", split_args)
    return re.sub(r"split\([^)]*\)", "split(%s, seed = %d)" % (args, seed), spec_text, count=1)


def main(names):
    tmp = tempfile.mkdtemp(prefix="mlpc-init-bench-")
    for name in names:
        example = open(os.path.join(ROOT, "examples", name + ".mlp")).read()
        example = example.replace('csv("data/', 'csv("%s/examples/data/' % ROOT)
        split_args = re.search(r"split\(([^)]*)\)", example).group(1)
        drafted = os.path.join(tmp, name + "-init.mlp")
        subprocess.run([MLPC, "init", "examples/data/%s.csv" % name, "-o", drafted, "--force"],
                       check=True, stdout=subprocess.DEVNULL)
        draft = open(drafted).read()
        key = "accuracy" if "classification" in draft else "r2"
        mine, theirs = [], []
        for seed in range(1, 6):
            for text, out in ((with_split(draft, split_args, seed), mine),
                              (with_split(example, split_args, seed), theirs)):
                spec = os.path.join(tmp, "spec.mlp")
                with open(spec, "w") as f:
                    f.write(text)
                run = os.path.join(tmp, "run")
                subprocess.run([MLPC, "run", spec, "--out", run, "--quiet"], check=True)
                out.append(test_metric(run, key))
        diff = [a - b for a, b in zip(mine, theirs)]
        print("%-14s %-8s init %.4f ± %.4f   example %.4f ± %.4f   difference %+.4f ± %.4f" % (
            name, key, statistics.mean(mine), statistics.stdev(mine), statistics.mean(theirs),
            statistics.stdev(theirs), statistics.mean(diff), statistics.stdev(diff)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["iris", "wine", "breast_cancer", "diabetes", "digits"])
