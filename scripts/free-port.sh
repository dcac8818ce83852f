#!/usr/bin/env bash
# Print a free TCP port on loopback (so a leftover server never blocks a test run).
exec python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
