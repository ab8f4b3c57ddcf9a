"""`tornstack run` on this interpreter: the link hook is loaded, the
program's own output and exit status pass through untouched, and the
start-up says nothing on stderr, with and without a sitecustomize of the
user's own on PYTHONPATH (which still runs, once, after the hook).

    python3.X check_run_hook.py TORNSTACK
"""
import os
import shutil
import subprocess
import sys
import tempfile

import livelib

tornstack = sys.argv[1]
PROGRAM = ("import sys\n"
           "print('hook', 'tornstack_hook' in sys.modules)\n"
           "print('site', getattr(sys.modules.get('sitecustomize'), 'MARK', None))\n"
           "sys.exit(3)\n")


def run(env_extra):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update(env_extra)
    return subprocess.run([tornstack, "run", "--", sys.executable, "-c", PROGRAM],
                          capture_output=True, text=True, timeout=60, env=env)


def check(name, r, site):
    want = "hook True\nsite %s\n" % site
    if r.returncode != 3 or r.stdout != want or r.stderr != "":
        livelib.fail("%s: exit %d (want 3), stdout %r (want %r), stderr %r"
                     % (name, r.returncode, r.stdout, want, r.stderr))


# A Debian interpreter has a sitecustomize of its own (/etc/python3.X);
# what the program sees of it is whatever that one is, hook or not.
plain = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                       timeout=60)
theirs = plain.stdout.splitlines()[1].split(" ", 1)[1] if plain.stdout.count("\n") == 2 else "?"
check("no sitecustomize of the user's", run({}), theirs)
tmp = tempfile.mkdtemp(prefix="tornstack-site-")
try:
    with open(os.path.join(tmp, "sitecustomize.py"), "w") as f:
        f.write("import os\nMARK = 'user'\nprint('user site ran', flush=True)\n")
    r = run({"PYTHONPATH": tmp})
    # the user's sitecustomize prints once, before the program
    check("the user's sitecustomize", subprocess.CompletedProcess(
        r.args, r.returncode, r.stdout.replace("user site ran\n", "", 1), r.stderr), "user")
    if not r.stdout.startswith("user site ran\n") or r.stdout.count("user site ran") != 1:
        livelib.fail("the user's sitecustomize did not run once first: %r" % r.stdout)
finally:
    shutil.rmtree(tmp)
print("run hook: %s: hook loaded, output and exit status kept, a quiet start-up, "
      "with and without the user's sitecustomize" % sys.version.split()[0])
