"""An OS-level guard: forbid this process to open network sockets (Linux seccomp).

The textual checks in query.py refuse SERVICE and LOAD, but SPARQL's lexical ambiguities (`<` as an IRI or
an operator, escapes in prefixed names) can hide a keyword from any check short of pyoxigraph's own
parser, and pyoxigraph's HTTP client ignores Python audit hooks. So processes that run user queries
(`allygraph query`, the endpoint's workers) also drop the right to open IPv4 and IPv6 sockets.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import socket
import struct
import sys


def libc_handle() -> ctypes.CDLL | None:
    if sys.platform != "linux":
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


# The seccomp filter: `socket(AF_INET | AF_INET6, ...)` fails with EACCES; every other call is allowed.
_SECCOMP_ARCH = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}  # AUDIT_ARCH_*, __NR_socket


def forbid_network() -> bool:
    """Linux: forbid this process (and threads it starts later) to open IPv4/IPv6 sockets. True if in force."""
    libc, arch = libc_handle(), _SECCOMP_ARCH.get(platform.machine())
    if libc is None or arch is None:
        return False

    def op(code: int, jt: int, jf: int, k: int) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    load, jeq, ret = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
    program = b"".join(
        [
            op(load, 0, 0, 4),  # seccomp_data.arch
            op(jeq, 0, 5, arch[0]),
            op(load, 0, 0, 0),  # seccomp_data.nr
            op(jeq, 0, 3, arch[1]),
            op(load, 0, 0, 16),  # seccomp_data.args[0]: the address family
            op(jeq, 2, 0, socket.AF_INET),
            op(jeq, 1, 0, socket.AF_INET6),
            op(ret, 0, 0, 0x7FFF0000),  # SECCOMP_RET_ALLOW
            op(ret, 0, 0, 0x00050000 | errno.EACCES),  # SECCOMP_RET_ERRNO
        ]
    )

    class _Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    code = ctypes.create_string_buffer(program)
    fprog = _Program(len(program) // 8, ctypes.addressof(code))
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
        return False
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except OSError:
        return True
    return False
