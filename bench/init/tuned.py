#!/usr/bin/env python3
"""`mlpc init`'s spec tuned as written against scikit-learn's model families.

For each data set and seed: `mlpc init` writes a spec, its seed (the split's
and the models') is set, the program runs `--tune` on one thread, and its test
metric is compared with the best of scikit-learn's LogisticRegression (Ridge
for a number), RandomForest and HistGradientBoosting, each with its defaults,
fitted on the rows the tuned winner was refitted on and tested on the run's
test rows (tests/parity/families.py, as the draft suite's test does). A pair
passes when ours is at least that best less 0.01. Prints one line a pair
(ours, the winner, scikit-learn's best, the tuning's seconds) and the count
that pass.

    bench/init/tuned.py [--seeds 42,1,2,3] [--jobs 2] [NAME ...]

A NAME is an example's data set (examples/data/NAME.csv) or one of the
generated ones below, written from scikit-learn's generators with fixed
seeds (default: the five tabular examples). Run from the repository root
after `make`, with scikit-learn in /usr/bin/python3.
"""
import argparse, concurrent.futures, json, os, re, subprocess, sys, tempfile, time

ROOT = os.getcwd()
MLPC = os.environ.get("MLPC", os.path.join(ROOT, "build", "mlpc"))
EXAMPLES = ["iris", "wine", "breast_cancer", "diabetes", "digits"]


def generated(name, path):
    """Write one generated data set as CSV (the target last); False when NAME is none."""
    from sklearn import datasets
    makers = {
        "gen_classes": lambda: datasets.make_classification(
            n_samples=400, n_features=12, n_informative=5, n_redundant=3, n_classes=3,
            n_clusters_per_class=2, flip_y=0.03, random_state=7),
        "gen_binary": lambda: datasets.make_classification(
            n_samples=600, n_features=20, n_informative=4, n_redundant=4, flip_y=0.05, class_sep=0.8,
            random_state=11),
        "gen_friedman": lambda: datasets.make_friedman1(n_samples=500, n_features=8, noise=1.0,
                                                        random_state=5),
        "gen_linear": lambda: datasets.make_regression(n_samples=300, n_features=15, n_informative=6,
                                                       noise=20.0, random_state=3),
    }
    if name not in makers:
        return False
    x, y = makers[name]()
    with open(path, "w") as f:
        f.write(",".join("x%d" % i for i in range(x.shape[1])) + ",y\n")
        for row, t in zip(x, y):
            label = ("c%d" % t) if name.endswith(("classes", "binary")) else repr(float(t))
            f.write(",".join(repr(float(v)) for v in row) + "," + label + "\n")
    return True


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def one(name, seed, tmp):
    data = os.path.join(ROOT, "examples", "data", name + ".csv")
    if not os.path.exists(data):
        data = os.path.join(tmp, name + ".csv")
    work = os.path.join(tmp, "%s-%d" % (name, seed))
    os.makedirs(work)
    spec = os.path.join(work, "spec.mlp")
    run([MLPC, "init", data, "-o", spec])
    text = open(spec).read()
    text = re.sub(r"\bseed = 42\b", "seed = %d" % seed, text, count=1)
    open(spec, "w").write(text)
    target = re.search(r"target = (\S+)", text).group(1)
    classify = "classification" in text
    exe, out, feats = (os.path.join(work, n) for n in ("tuned.exe", "run", "features"))
    run([MLPC, "build", spec, "-o", exe])
    start = time.time()
    run([exe, "--out", out, "--quiet", "--tune", "--threads", "1"])
    seconds = time.time() - start
    run([exe, "--export-features", feats, "--quiet"])
    sk = json.loads(run(["/usr/bin/python3", "tests/parity/families.py", feats, target,
                         "classifier" if classify else "regressor",
                         "rows=" + os.path.join(out, "test_rows.csv")]).stdout)
    man = json.load(open(os.path.join(out, "manifest.json")))
    ours = man["metrics"]["test"]["accuracy" if classify else "r2"]
    won = man["tuning"]["best_settings"]
    return name, seed, ours, won, sk, seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="42,1,2,3")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    names = a.names or EXAMPLES
    tmp = tempfile.mkdtemp(prefix="mlpc-init-tuned-")
    for n in names:
        if not os.path.exists(os.path.join(ROOT, "examples", "data", n + ".csv")):
            if not generated(n, os.path.join(tmp, n + ".csv")):
                sys.exit("no data set named " + n)
    pairs = [(n, int(s)) for n in names for s in a.seeds.split(",")]
    passed = 0
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        for name, seed, ours, won, sk, seconds in pool.map(lambda p: one(p[0], p[1], tmp), pairs):
            best = sk.pop("best")
            ok = ours >= best - 0.01
            passed += ok
            settings = " ".join("%s=%s" % kv for kv in won.items())
            print("%-14s seed %-3d ours %.4f  sklearn %.4f (%s)  %s  %5.1f s  %s" % (
                name, seed, ours, best, max(sk, key=sk.get), "pass" if ok else "MISS", seconds, settings),
                flush=True)
    print("%d of %d pass" % (passed, len(pairs)))


if __name__ == "__main__":
    main()
