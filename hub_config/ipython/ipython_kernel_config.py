# Learner kernels: a failed exercise test shows its hint kindly (autoformation.selfcheck).
# Installed into the environment's etc/ipython/ (make install; /etc/ipython/ in the images).
c.InteractiveShellApp.extensions = ["autoformation.selfcheck"]  # noqa: F821
