"""The text benchmark's scikit-learn side: TfidfVectorizer with the settings
of tfidf_mlpc.c (words as runs of letters and digits, unigrams and bigrams,
min_df 2, 4000 terms, sublinear tf, L2 rows), fit_transform over every
row's `text`. Reading the CSV is not timed. Prints one line:
sklearn SECONDS ROWS TERMS SUM."""
import csv
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer

with open(sys.argv[1], newline="") as f:
    docs = [r["text"] for r in csv.DictReader(f)]
t0 = time.perf_counter()
v = TfidfVectorizer(token_pattern=r"(?u)[^\W_]+", ngram_range=(1, 2), min_df=2, max_features=4000,
                    sublinear_tf=True)
x = v.fit_transform(docs)
t1 = time.perf_counter()
print(f"sklearn {t1 - t0:.6f} {x.shape[0]} {x.shape[1]} {x.sum():.6f}")
