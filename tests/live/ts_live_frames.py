"""Uniquely named functions for the live thread-stack tests.

The target script (threads_target.py) calls into this module so that the
expected stacks cross a module boundary (a second file name) and contain a
method (qualname with a class), a generator frame and a nested function.
"""
import threading


def ts_recurse(n, leaf):
    if n > 0:
        return ts_recurse(n - 1, leaf)
    return leaf()


class TsHolder:
    def ts_method(self, depth, leaf):
        return ts_recurse(depth, leaf)


def ts_generator(depth, leaf):
    yield TsHolder().ts_method(depth, leaf)


def ts_alpha(depth, leaf):
    def ts_inner():
        return next(ts_generator(depth, leaf))

    return ts_inner()


def ts_worker_block(started, stop, depth):
    def ts_worker_leaf():
        started.set()
        stop.wait()

    ts_recurse(depth, ts_worker_leaf)
