"""A learner's script that never finishes, and leaves a child behind: the
lab must stop both at its time limit."""

import subprocess
import time

child = subprocess.Popen(["sleep", "300"])
with open("child.pid", "w") as f:
    f.write(str(child.pid))
while True:
    time.sleep(1)
