"""Parse one C3D file with ezc3d in a child process: ``python _c3d_child.py PATH``.

ezc3d is a C++ library: some damaged files make it crash the whole process (a segmentation
fault on one changed byte was measured). :func:`recordings.c3d_io.read_c3d` therefore runs this
script as a subprocess, so a crash is one refused file, never the end of a batch import. It
writes a pickle of plain values to stdout: the header counts, every parameter's value, and the
analog samples. Run as a script (not ``-m``), it imports nothing of the application.
"""

import pickle
import sys

import ezc3d
import numpy as np


def main(path: str) -> None:
    c = ezc3d.c3d(path)
    params = {}
    for group, table in c["parameters"].items():
        if group.startswith("__"):
            continue
        params[group] = {
            name: {"value": p["value"]} for name, p in table.items() if not name.startswith("__")
        }
    out = {
        "parameters": params,
        "analogs": np.asarray(c["data"]["analogs"], dtype=np.float64),
        "header_frames": int(c["header"]["points"]["last_frame"])
        - int(c["header"]["points"]["first_frame"])
        + 1,
    }
    sys.stdout.buffer.write(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:  # ezc3d raises bare RuntimeError/ValueError/IOError on bad files
        sys.stderr.write(str(e)[:300])
        sys.exit(2)
