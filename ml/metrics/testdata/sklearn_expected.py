# Computes the expected values pasted into sklearn_test.go.
# Run: /usr/bin/python3 testdata/sklearn_expected.py  (scikit-learn 1.2.1, numpy 1.24.2)
import numpy as np
from sklearn import metrics as M
from sklearn.calibration import calibration_curve

def golist(xs, fmt="%r"):
    return "{" + ", ".join(fmt % x for x in xs) + "}"

rng = np.random.default_rng(7)
# Binary: probabilities rounded to 1 decimal so that scores tie.
n = 30
yb = rng.integers(0, 2, n)
p1 = np.round(np.clip(0.35 * yb + rng.uniform(0, 0.65, n), 0, 1), 1)
wb = np.round(rng.uniform(0.5, 2, n), 2)
Pb = np.stack([1 - p1, p1], axis=1)
pred_b = Pb.argmax(1)
print("// binary")
print("yb =", golist(yb, "%d"))
print("p1 =", golist(p1))
print("wb =", golist(wb))
for w, tag in [(None, ""), (wb, "W")]:
    print(tag, "accuracy", repr(M.accuracy_score(yb, pred_b, sample_weight=w)))
    print(tag, "balanced", repr(M.balanced_accuracy_score(yb, pred_b, sample_weight=w)))
    print(tag, "f1", repr(M.f1_score(yb, pred_b, sample_weight=w)))
    print(tag, "rocauc", repr(M.roc_auc_score(yb, p1, sample_weight=w)))
    print(tag, "ap", repr(M.average_precision_score(yb, p1, sample_weight=w)))
    print(tag, "logloss", repr(M.log_loss(yb, Pb, eps=1e-15, sample_weight=w)))
print("confusion", M.confusion_matrix(yb, pred_b).tolist())
fpr, tpr, thr = M.roc_curve(yb, p1, drop_intermediate=False)
print("roc fpr", golist(fpr)); print("roc tpr", golist(tpr)); print("roc thr", golist(thr))
prec, rec, thr = M.precision_recall_curve(yb, p1)
print("pr prec", golist(prec[::-1])); print("pr rec", golist(rec[::-1])); print("pr thr", golist(thr[::-1]))
pt, pp = calibration_curve(yb, p1, n_bins=5)
print("calib true", golist(pt)); print("calib pred", golist(pp))
# extreme probabilities for log loss clipping
print("logloss extreme", repr(M.log_loss([1, 0, 1], [[1, 0], [0.2, 0.8], [0.5, 0.5]], eps=1e-15)))

# Multiclass, K=3
n = 24
ym = rng.integers(0, 3, n)
ym[:3] = [0, 1, 2]
logits = rng.normal(size=(n, 3)); logits[np.arange(n), ym] += 1.0
Pm = np.exp(logits); Pm /= Pm.sum(1, keepdims=True)
Pm = np.round(Pm, 2); Pm[:, 2] = np.round(1 - Pm[:, 0] - Pm[:, 1], 2)
wm = np.round(rng.uniform(0.5, 2, n), 2)
pred_m = Pm.argmax(1)
print("// multiclass")
print("ym =", golist(ym, "%d"))
print("pm =", golist(Pm.ravel()))
print("wm =", golist(wm))
for w, tag in [(None, ""), (wm, "W")]:
    print(tag, "accuracy", repr(M.accuracy_score(ym, pred_m, sample_weight=w)))
    print(tag, "balanced", repr(M.balanced_accuracy_score(ym, pred_m, sample_weight=w)))
    print(tag, "f1", repr(M.f1_score(ym, pred_m, average="macro", sample_weight=w)))
    print(tag, "rocauc", repr(M.roc_auc_score(ym, Pm, multi_class="ovr", average="macro", sample_weight=w)))
    Y = np.eye(3)[ym]
    print(tag, "ap", repr(M.average_precision_score(Y, Pm, average="macro", sample_weight=w)))
    print(tag, "logloss", repr(M.log_loss(ym, Pm, eps=1e-15, sample_weight=w)))
print("confusion", M.confusion_matrix(ym, pred_m).tolist())

# Regression
n = 15
yr = np.round(rng.normal(10, 3, n), 2)
pr = np.round(yr + rng.normal(0, 1.5, n), 2)
wr = np.round(rng.uniform(0.5, 2, n), 2)
print("// regression")
print("yr =", golist(yr)); print("pr =", golist(pr)); print("wr =", golist(wr))
for w, tag in [(None, ""), (wr, "W")]:
    print(tag, "rmse", repr(M.mean_squared_error(yr, pr, squared=False, sample_weight=w)))
    print(tag, "mae", repr(M.mean_absolute_error(yr, pr, sample_weight=w)))
    print(tag, "r2", repr(M.r2_score(yr, pr, sample_weight=w)))
