"""Starts `localstripe` (PyPI, GPL-3.0+) for the Stripe refund cross-check.

localstripe runs unmodified in this separate process; nothing of it is copied into Paydesk.
This launcher only changes where it listens and where it keeps its state:
  * it binds 127.0.0.1 on a free port (localstripe binds every interface on a fixed port) and
    prints {"port": N} as the first stdout line;
  * its state file (hard-coded /tmp/localstripe.pickle, shared by every instance on the machine)
    goes to $TMPDIR/localstripe.pickle instead, so parallel runs do not collide.
Usage: python3 localstripe_run.py   (always starts from scratch)
"""

import builtins
import json
import os
import socket
import sys
import tempfile
import types

import localstripe.resources as resources
import localstripe.server as server

STATE = os.path.join(tempfile.gettempdir(), "localstripe.pickle")
_open = builtins.open


def _redirected_open(file, *args, **kwargs):
    if file == "/tmp/localstripe.pickle":
        file = STATE
    return _open(file, *args, **kwargs)


resources.open = _redirected_open  # module global shadows the builtin inside resources


class _LoopbackSocket(socket.socket):
    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        super().__init__(socket.AF_INET, type, proto, fileno)

    def bind(self, address):
        super().bind(("127.0.0.1", 0))
        sys.stdout.write(json.dumps({"port": self.getsockname()[1]}) + "\n")
        sys.stdout.flush()


_socket_shim = types.ModuleType("socket")
_socket_shim.__dict__.update(socket.__dict__)
_socket_shim.socket = _LoopbackSocket
server.socket = _socket_shim

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "--from-scratch"]
    server.start()
