"""Example target for `scripts/demo.sh`: a small program holding still.

The main thread parses an order through a few nested calls and parks in
the innermost one; a worker thread parks inside a generator.  It prints
"ready" once both are parked, then waits to be killed.
"""
import threading
import time

parked = threading.Barrier(3)


def checksum(order):
    parked.wait()
    while True:
        time.sleep(3600)


def validate(order):
    return checksum(order)


class OrderParser:
    def parse(self, text):
        return validate(text.split(","))


def ticker():
    for tick in range(10**9):
        if tick == 1:
            parked.wait()
            while True:
                time.sleep(3600)
        yield tick


def worker():
    for _ in ticker():
        pass


threading.Thread(target=worker, name="ticker", daemon=True).start()
threading.Thread(target=lambda: (parked.wait(), print("ready", flush=True)), daemon=True).start()
OrderParser().parse("42,apples,3")
