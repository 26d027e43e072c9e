"""Pose estimation for real photos (Qt-free): image → person box, 2-D and 3-D joints in the project's
skeleton, per-joint confidence and posebits, or a typed "no person found".

* :mod:`~posebrowser.estimate.estimator` — :class:`PoseEstimator` (MediaPipe BlazePose, offline bundle).
* :mod:`~posebrowser.estimate.skeleton_map` — BlazePose landmarks → the 16-joint skeleton; posebits with
  low-confidence bits unknown.
* :mod:`~posebrowser.estimate.result` — :class:`PoseEstimate`, :class:`NoPersonFound`.
* :mod:`~posebrowser.estimate.cache` — per-image cache keyed by content hash and estimator version.
* :mod:`~posebrowser.estimate.command` — ``posebrowser estimate IMAGE|DIR``.
"""
