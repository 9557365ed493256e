"""Learning from feedback, shown on real text the model has not seen; writes LEARNING.md.

    python -m models.language.learn_demo     # about 8 minutes on 2 cores

1. Trains the model from the committed data exactly as `predictq train language` does
   (train.train into a temporary directory) and checks that the naive Bayes counts
   rebuilt from the artifact (learn.with_counts) give the artifact's answers.
2. Scores the out-of-domain Tatoeba sentences (data/tatoeba_ood.tsv: no training file
   comes from Tatoeba; sentences also found in training text removed, as evaluate.py
   does): which same-script pairs the model confuses.
3. For each confused pair, splits its out-of-domain sentences, half of each language, by
   a seeded shuffle into a feedback half and an unseen half; gives feedback on the first
   half as a user would (MODES), learns, and scores the unseen half, the full held-out
   split and the other out-of-domain sentences, before and after. Over SPLIT_SEEDS and
   WEIGHTS.
4. Poisoning: a client labels N sentences of language X, which the model gets right, as
   language Y; what that does to X and Y on the held-out split.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sklearn

from models.artifacts import load_estimator
from models.language import dataset, train
from models.language.card import HARD_GROUPS
from models.language.evaluate import test_sets
from models.language.languages import base_label
from models.language.learn import WEIGHT, learn, with_counts
from models.language.pipeline import compact
from models.language.scoring import score
from models.registry import get_spec

OUTPUT = Path(__file__).parent / "LEARNING.md"
# The same-script pairs with out-of-domain errors (the card's "Hard pairs"); Malay has
# no out-of-domain sentences, so id/ms feedback and test text are Indonesian only.
PAIRS = (("da", "nb"), ("id", "ms"), ("hr", "sr"))
SPLIT_SEEDS = (0, 1, 2, 3, 4)
WEIGHTS = (1.0, 2.0, 3.0, 10.0, 30.0)
# "every": the user confirms or corrects every answer, so each feedback sentence is
# learned with its true label, right or wrong before; "wrong": only mistakes are reported.
MODES = ("every", "wrong")
MODE = "every"
POISON = (("hr", "sr"), ("da", "nb"), ("de", "fr"))
POISON_N = (10, 100, 900)
REPEATS = 1000  # and one sentence sent this many times
POISON_SEED = 0


# Peak RSS (VmHWM) of a fresh process that loads the model as a worker does, then learns
# one feedback text through the registry: what a learning job needs beyond serving.
_PROBE = """
import json, sys
from pathlib import Path
from models.loading import LoadedModel
def peak():
    return next(int(line.split()[1]) for line in open("/proc/self/status")
                if line.startswith("VmHWM")) / 1024
model = LoadedModel.load(Path(sys.argv[1]), "language")
served = peak()
model.spec.learn(model.estimator, [{"text": "Jeg vil gerne have en kop kaffe."}], ["da"])
print(json.dumps({"served_mb": served, "learned_mb": peak()}))
"""


def memory(model_dir: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(model_dir)], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Texts:
    texts: list[str]
    truth: list[str]


def accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / max(1, len(truth))


def wrong(truth: Sequence[str], predicted: Sequence[str]) -> int:
    return sum(t != p for t, p in zip(truth, predicted, strict=True))


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def predict(estimator: Any, texts: Sequence[str]) -> list[str]:
    return score(estimator, list(texts)).best if texts else []


def of_labels(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    pairs = [(t, p) for t, p in zip(truth, predicted, strict=True) if t in labels]
    return accuracy([t for t, _ in pairs], [p for _, p in pairs])


def split_half(truth: Sequence[str], seed: int) -> tuple[list[int], list[int]]:
    """Indices of a feedback half and an unseen half, half of each language in each."""
    rng = random.Random(seed)
    feedback, unseen = [], []
    for label in sorted(set(truth)):
        rows = [i for i, t in enumerate(truth) if t == label]
        rng.shuffle(rows)
        feedback += rows[: len(rows) // 2]
        unseen += rows[len(rows) // 2 :]
    return sorted(feedback), sorted(unseen)


def confusions(ood: Texts, predicted: list[str]) -> list[str]:
    lines = [
        "| group | sentences | wrong | of which within the group | confusions |",
        "| --- | --- | --- | --- | --- |",
    ]
    for group in HARD_GROUPS:
        rows = [(t, p) for t, p in zip(ood.truth, predicted, strict=True) if t in group]
        if not rows:
            continue
        errors = Counter((t, p) for t, p in rows if t != p)
        within = sum(n for (_, p), n in errors.items() if p in group)
        top = ", ".join(f"{t}→{p} {n}" for (t, p), n in errors.most_common(3)) or "–"
        lines.append(
            f"| {'/'.join(group)} | {len(rows)} | {sum(errors.values())} | {within} | {top} |"
        )
    return lines


def pair_run(
    estimator: Any, ood: Texts, ood_before: list[str], held: Texts, held_before: list[str],
    pair: Sequence[str], seed: int, weight: float, mode: str,
) -> dict[str, Any]:
    """Feedback on one half of the pair's out-of-domain sentences, scored on the rest."""
    rows = [i for i, t in enumerate(ood.truth) if t in pair]
    fb_local, unseen_local = split_half([ood.truth[i] for i in rows], seed)
    fb, unseen = [rows[i] for i in fb_local], [rows[i] for i in unseen_local]
    if mode == "wrong":
        fb = [i for i in fb if ood_before[i] != ood.truth[i]]
    started = time.perf_counter()
    model = learn(estimator, [ood.texts[i] for i in fb], [ood.truth[i] for i in fb],
                  weight=weight)
    seconds = time.perf_counter() - started
    rest = sorted(set(range(len(ood.texts))) - set(fb) - set(unseen))
    truth = [ood.truth[i] for i in unseen]
    before = [ood_before[i] for i in unseen]
    after = predict(model, [ood.texts[i] for i in unseen])
    rest_after = predict(model, [ood.texts[i] for i in rest])
    held_after = predict(model, held.texts)
    out: dict[str, Any] = {
        "pair": tuple(pair), "seed": seed, "weight": weight, "mode": mode,
        "feedback": len(fb), "corrections": sum(ood_before[i] != ood.truth[i] for i in fb),
        "unseen": len(unseen), "seconds": seconds,
        "unseen_wrong": (wrong(truth, before), wrong(truth, after)),
        "unseen_acc": (accuracy(truth, before), accuracy(truth, after)),
        "rest_wrong": (wrong([ood.truth[i] for i in rest], [ood_before[i] for i in rest]),
                       wrong([ood.truth[i] for i in rest], rest_after)),
        "held_wrong": (wrong(held.truth, held_before), wrong(held.truth, held_after)),
        "held_acc": (accuracy(held.truth, held_before), accuracy(held.truth, held_after)),
        "held_pair": (of_labels(held.truth, held_before, pair),
                      of_labels(held.truth, held_after, pair)),
    }
    for label in pair:
        if label in truth:
            out[label] = (of_labels(truth, before, [label]), of_labels(truth, after, [label]))
    return out


def poison_run(
    estimator: Any, held: Texts, held_before: list[str], texts: list[str], x: str, y: str,
    weight: float,
) -> dict[str, Any]:
    """A client labels `texts` (sentences of x the model gets right) as y."""
    started = time.perf_counter()
    model = learn(estimator, texts, [y] * len(texts), weight=weight)
    seconds = time.perf_counter() - started
    after = predict(model, held.texts)
    x_rows = [i for i, t in enumerate(held.truth) if t == x]
    return {
        "x": x, "y": y, "n": len(texts), "distinct": len(set(texts)), "seconds": seconds,
        "x_acc": (accuracy([x] * len(x_rows), [held_before[i] for i in x_rows]),
                  accuracy([x] * len(x_rows), [after[i] for i in x_rows])),
        "x_to_y": (sum(held_before[i] == y for i in x_rows) / len(x_rows),
                   sum(after[i] == y for i in x_rows) / len(x_rows)),
        "y_acc": (of_labels(held.truth, held_before, [y]), of_labels(held.truth, after, [y])),
        "held_acc": (accuracy(held.truth, held_before), accuracy(held.truth, after)),
    }


def poison_pool(estimator: Any, labels: set[str]) -> dict[str, list[str]]:
    """Per language, training-split sentences (original spelling) the model gets right,
    shuffled: text a malicious client could copy from anywhere."""
    rest, _ = dataset.split(dataset.sentence_groups(), train.TEST_SIZE, train.SEED)
    by_label: dict[str, list[str]] = {}
    for unit in rest:
        label = base_label(unit.label)
        if label in labels and not unit.source.endswith("+latin"):
            by_label.setdefault(label, []).append(unit.text)
    rng = random.Random(POISON_SEED)
    pool = {}
    for label, texts in sorted(by_label.items()):
        right = [t for t, p in zip(texts, predict(estimator, texts), strict=True) if p == label]
        rng.shuffle(right)
        pool[label] = right
    return pool


def arrow(pair: tuple[float, float], fmt: Any = pct) -> str:
    return f"{fmt(pair[0])} → {fmt(pair[1])}"


def mean2(runs: list[dict[str, Any]], key: str) -> tuple[float, float]:
    return (statistics.mean(r[key][0] for r in runs), statistics.mean(r[key][1] for r in runs))


def sum2(runs: list[dict[str, Any]], key: str) -> tuple[int, int]:
    return (sum(r[key][0] for r in runs), sum(r[key][1] for r in runs))


def select(runs: list[dict[str, Any]], pair: Sequence[str], weight: float, mode: str) -> list:
    return [r for r in runs if r["pair"] == tuple(pair) and r["weight"] == weight
            and r["mode"] == mode]


def held_change(runs: list[dict[str, Any]]) -> str:
    """Held-out errors added (+) or removed (-) by learning, per split seed."""
    return " ".join(f"{r['held_wrong'][1] - r['held_wrong'][0]:+d}" for r in runs)


def headline(facts: dict[str, Any]) -> list[str]:
    lines = [
        "| pair | feedback sentences per split (corrections) | unseen sentences per split "
        "| unseen errors, 5 splits | unseen accuracy | per language, unseen | held-out "
        f"accuracy ({facts['held_n']}) | held-out errors added per split | held-out, the "
        "pair | other out-of-domain errors, 5 splits |",
        "| --- " * 10 + "|",
    ]
    for pair in PAIRS:
        runs = select(facts["runs"], pair, WEIGHT, MODE)
        per_language = "; ".join(
            f"{label} {arrow(mean2(runs, label))}" for label in pair if label in runs[0]
        )
        corrections = statistics.mean(r["corrections"] for r in runs)
        lines.append(
            f"| {'/'.join(pair)} | {statistics.mean(r['feedback'] for r in runs):.0f} "
            f"({corrections:.1f}) | {runs[0]['unseen']} | "
            f"**{arrow(sum2(runs, 'unseen_wrong'), str)}** | {arrow(mean2(runs, 'unseen_acc'))} "
            f"| {per_language} | {arrow(mean2(runs, 'held_acc'), _pct2)} | "
            f"{held_change(runs)} | {arrow(mean2(runs, 'held_pair'))} | "
            f"{arrow(sum2(runs, 'rest_wrong'), str)} |"
        )
    return lines


def _pct2(value: float) -> str:
    return f"{100 * value:.2f}%"


def sweep(facts: dict[str, Any]) -> list[str]:
    lines = [
        "| pair | feedback | weight | sentences learned per split | unseen errors, 5 splits "
        "| held-out errors added per split | held-out accuracy, the pair |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for pair in PAIRS:
        for mode in MODES:
            for weight in WEIGHTS:
                runs = select(facts["runs"], pair, weight, mode)
                if not runs:
                    continue
                mark = " **(chosen)**" if (weight, mode) == (WEIGHT, MODE) else ""
                lines.append(
                    f"| {'/'.join(pair)} | {mode} | {weight:g}{mark} | "
                    f"{statistics.mean(r['feedback'] for r in runs):.1f} | "
                    f"{arrow(sum2(runs, 'unseen_wrong'), str)} | {held_change(runs)} | "
                    f"{arrow(mean2(runs, 'held_pair'))} |"
                )
    return lines


def poisoning(facts: dict[str, Any]) -> list[str]:
    lines = [
        "| X → Y | sentences sent (distinct) | X held-out accuracy | X held-out answered Y "
        "| Y held-out accuracy | held-out, all |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in facts["poison"]:
        lines.append(
            f"| {p['x']} → {p['y']} | {p['n']} ({p['distinct']}) | {arrow(p['x_acc'])} | "
            f"{arrow(p['x_to_y'])} | {arrow(p['y_acc'])} | {arrow(p['held_acc'], _pct2)} |"
        )
    return lines


def render(facts: dict[str, Any]) -> str:
    median_s = statistics.median(r["seconds"] for r in facts["runs"])
    lines = [
        "# Learning from feedback: `language`",
        "",
        f"_Generated by `python -m models.language.learn_demo` on {facts['date']} (model "
        f"version `{facts['version']}`, scikit-learn {sklearn.__version__}, "
        f"{facts['seconds'] / 60:.0f} min on this machine). Do not edit by hand; change "
        "the code and rerun._",
        "",
        "`models/language/learn.py` turns feedback (a text and its true label) into a new "
        "model: it rebuilds the naive Bayes counts that the served artifact dropped, adds "
        "the feedback texts' n-gram counts to their classes with scikit-learn's own "
        f"`MultinomialNB.partial_fit`, each text counted like {WEIGHT:g} training "
        "sentences, and compacts the result again. The given model is never changed. `sr` "
        "goes to the Cyrillic or Latin Serbian class by the text's script; texts with no "
        "letters, a text given again with the same label, and texts in a script their "
        "label is never written in, are skipped; a "
        "label the model does not have is refused (ValueError). The calibration is kept.",
        "",
        f"- Rebuilt counts: the model recomputed from them gives the served answer on "
        f"{facts['same']} of {facts['checked']} held-out and out-of-domain texts "
        f"(largest probability difference {facts['max_diff']:.1e}).",
        f"- One `learn()` call on a few dozen texts takes about {median_s:.1f} s here (a deep "
        "copy of the table, the counts rebuilt in float64, one partial_fit, compacted "
        f"again); on {facts['poison_largest']['n']} texts "
        f"{facts['poison_largest']['seconds']:.1f} s. Peak memory of a process that "
        f"loads the model and learns once: {facts['memory']['learned_mb']:.0f} MB "
        f"({facts['memory']['served_mb']:.0f} MB to load and serve it): the counts are "
        "rebuilt in float64, so learning belongs in a job of its own, not in every worker.",
        f"- Rebuilding the held-out sets (`spec.heldout()`): language "
        f"{facts['heldout_seconds']['language']:.1f} s, appliance "
        f"{facts['heldout_seconds']['appliance']:.1f} s, once per process.",
        "",
        "## The confusions",
        "",
        "Out-of-domain sentences (Tatoeba, `data/tatoeba_ood.tsv`: no training file comes "
        f"from Tatoeba; the {facts['overlap']} sentence(s) also found in training text are "
        "removed), scored by the freshly trained model:",
        "",
        *confusions(facts["ood"], facts["ood_before"]),
        "",
        "## Feedback on those pairs, judged on sentences it did not see",
        "",
        "For each pair, its out-of-domain sentences are split, half of each language, by a "
        f"seeded shuffle (seeds {', '.join(map(str, SPLIT_SEEDS))}) into a feedback half "
        "and an unseen half. Feedback: "
        + (
            "the user confirms or corrects every answer, so every feedback sentence is "
            "learned with its true label, whether the model had it right or not."
            if MODE == "every"
            else "the user reports only the wrong answers."
        )
        + f" Weight {WEIGHT:g}. Before → after (accuracies are means over the splits):",
        "",
        *headline(facts),
        "",
        "## Choosing the weight and the feedback mode",
        "",
        "The same runs at other weights, and with feedback only on the wrong answers:",
        "",
        *sweep(facts),
        "",
        *facts["choice"],
        "",
        "## Poisoning: one client lying",
        "",
        "A client sends sentences of language X that the model gets right (training-split "
        "sentences: text anyone can copy) and labels them Y, at the same weight. Held-out "
        "split, before → after:",
        "",
        *poisoning(facts),
        "",
        *facts["notes"],
        "",
    ]
    return "\n".join(lines)


def choice(facts: dict[str, Any]) -> list[str]:
    """Why WEIGHT and MODE, computed from the runs so a rerun cannot leave stale prose."""
    safe = []
    for weight in WEIGHTS:
        runs = [r for r in facts["runs"] if r["weight"] == weight and r["mode"] == MODE]
        if all(r["held_wrong"][1] <= r["held_wrong"][0] for r in runs):
            safe.append(weight)
    best = max(safe) if safe else None
    out = [
        f"Rule: the largest weight at which no split of any pair costs a single held-out "
        f"text (a learned version must be no worse than the served one there). With "
        f"'{MODE}' feedback that is {best:g}." if best is not None else
        "No weight of the grid leaves the held-out split untouched in every run.",
    ]
    if best != WEIGHT:
        out.append(f"**learn.WEIGHT is {WEIGHT:g}, not {best}: update it.**")
    if best is not None and best < max(WEIGHTS):
        above = min(w for w in WEIGHTS if w > best)
        out.append(
            f"At {above:g} some splits lose a held-out text; the gains on unseen text there "
            "are in the table, and a learned version that fails the held-out comparison "
            "would not be promoted anyway."
        )
    out.append("")
    for pair in PAIRS:
        every, wrong_only = select(facts["runs"], pair, WEIGHT, "every"), select(
            facts["runs"], pair, WEIGHT, "wrong")
        if every and wrong_only:
            out.append(
                f"- {'/'.join(pair)} at weight {WEIGHT:g}: unseen errors "
                f"{arrow(sum2(every, 'unseen_wrong'), str)} with feedback on every answer, "
                f"{arrow(sum2(wrong_only, 'unseen_wrong'), str)} with corrections only."
            )
    unhelped = [
        "/".join(pair) for pair in PAIRS
        if (runs := select(facts["runs"], pair, WEIGHT, MODE))
        and sum2(runs, "unseen_wrong")[1] >= sum2(runs, "unseen_wrong")[0]
    ]
    out += [
        "",
        "Feedback on every answer, then, not only on the wrong ones: naive Bayes learns a "
        "class from what its texts have in common, and a handful of corrections, every one "
        "of them a borderline text, says little about the next sentence, while confirmed "
        "sentences teach both classes the everyday words of the register the users write "
        "in (at higher weights the difference grows).",
    ]
    if unhelped:
        out.append("")
        out.append(
            f"Not helped here: {', '.join(unhelped)}. Where a pair's errors hinge on one or "
            "two words per sentence (for hr/sr: uputstva, platu, umeli, which Croatian says "
            "otherwise), a few dozen feedback sentences rarely repeat them, and what they "
            "do teach (the register) moves as many unseen sentences the wrong way as the "
            "right one."
        )
    return out


def notes(facts: dict[str, Any]) -> list[str]:
    out = ["## What one client can and cannot do", ""]
    for x, y in POISON:
        rows = [p for p in facts["poison"] if (p["x"], p["y"]) == (x, y)]
        first = next((p for p in rows if p["x_acc"][1] < p["x_acc"][0] - 0.01
                      or p["y_acc"][1] < p["y_acc"][0] - 0.01), None)
        out.append(
            f"- {x} sent as {y}: "
            + (f"{first['n']} sentences ({first['distinct']} distinct) cost {x} or {y} more "
               "than one point of held-out accuracy."
               if first else f"no size tried (up to {max(p['distinct'] for p in rows)} distinct "
               f"sentences) cost {x} or {y} more "
               "than one point of held-out accuracy.")
        )
    out += [
        "- Feedback only adds counts, so a liar's effect grows with the number of distinct "
        "sentences it sends (a sentence given again with the same label counts once: the "
        f"last row of each group sends one sentence {REPEATS:,} times). Mislabelling text of "
        "a same-script neighbour is what hurts: X's sentences go to Y. Bound what one "
        "client's feedback adds to a version, and promote a learned version only "
        "if it is no worse on the held-out split, which `spec.heldout()` rebuilds for "
        "exactly that check.",
        "- Script rules cannot be poisoned: a text in a script its label is never written "
        "in is skipped, and the script mask is applied after naive Bayes anyway.",
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.language.learn_demo")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="language-learn-") as tmp:
        manifest = train.train(Path(tmp), lambda stage, done, total: print(f"train: {stage}"))
        estimator, _ = load_estimator(Path(tmp), "language")
        peak = memory(Path(tmp))

    heldout_seconds = {}
    for name in ("language", "appliance"):
        t0 = time.perf_counter()
        get_spec(name).heldout()
        heldout_seconds[name] = time.perf_counter() - t0

    sets = test_sets(train.SEED)
    overlap = int(sets["_ood_overlap"][1][0])
    held, ood = Texts(*sets["held-out"]), Texts(*sets["out-of-domain"])
    held_before, ood_before = predict(estimator, held.texts), predict(estimator, ood.texts)

    # The rebuilt counts must give the served model back before anything is learned.
    rebuilt = compact(with_counts(estimator))
    everything = held.texts + ood.texts
    served, again = score(estimator, everything), score(rebuilt, everything)
    same = sum(a == b for a, b in zip(served.best, again.best, strict=True))
    max_diff = float(abs(served.proba - again.proba).max())
    print(f"rebuilt counts: same answer on {same} of {len(everything)}, max diff {max_diff:.1e}")

    runs = []
    for pair in PAIRS:
        for mode in MODES:
            for weight in WEIGHTS:
                for seed in SPLIT_SEEDS:
                    r = pair_run(estimator, ood, ood_before, held, held_before, pair, seed,
                                 weight, mode)
                    runs.append(r)
                    print(f"{'/'.join(pair)} {mode:5} w={weight:<4g} seed={seed} "
                          f"feedback={r['feedback']:3} unseen errors "
                          f"{arrow(r['unseen_wrong'], str)}, held-out errors "
                          f"{arrow(r['held_wrong'], str)}")

    pool = poison_pool(estimator, {x for x, _ in POISON})
    poison = []
    for x, y in POISON:
        batches = [pool[x][:n] for n in POISON_N] + [pool[x][:1] * REPEATS]
        for texts in batches:
            p = poison_run(estimator, held, held_before, texts, x, y, WEIGHT)
            poison.append(p)
            print(f"poison {x}->{y} n={p['n']} ({p['distinct']} distinct): {x} held-out "
                  f"{arrow(p['x_acc'])}, {y} {arrow(p['y_acc'])}")

    facts: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "version": manifest.version,
        "overlap": overlap,
        "ood": ood,
        "ood_before": ood_before,
        "held_n": len(held.texts),
        "same": same,
        "checked": len(everything),
        "max_diff": max_diff,
        "heldout_seconds": heldout_seconds,
        "memory": peak,
        "runs": runs,
        "poison": poison,
        "poison_largest": max(poison, key=lambda p: p["distinct"]),
    }
    facts["choice"] = choice(facts)
    facts["notes"] = notes(facts)
    facts["seconds"] = time.perf_counter() - started
    text = render(facts)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
