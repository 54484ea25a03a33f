import hashlib

from sklearn.datasets import load_wine

X, y = load_wine(return_X_y=True)
print(hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest()[:8])
X[:, 0] += 2.0  # the new supplier: two more points of alcohol
print(hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest()[:8])
