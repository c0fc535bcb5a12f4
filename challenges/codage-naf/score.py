"""The challenge's scorer (trusted, written by the organisers): predicted and true sections to metrics.

`score(predictions, labels)`: two dicts id -> section code, every id of the test set once.
The macro F1 averages the F1 of every section present in the labels, so rare sections count as much
as frequent ones (a model that never predicts them is penalised).
"""


def score(predictions: dict[str, str], labels: dict[str, str]) -> dict[str, float]:
    ids = list(labels)
    f1s = []
    for section in sorted(set(labels.values())):
        tp = sum(1 for i in ids if predictions[i] == section and labels[i] == section)
        fp = sum(1 for i in ids if predictions[i] == section and labels[i] != section)
        fn = sum(1 for i in ids if predictions[i] != section and labels[i] == section)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {"f1_macro": sum(f1s) / len(f1s), "exactitude": sum(predictions[i] == labels[i] for i in ids) / len(ids)}
