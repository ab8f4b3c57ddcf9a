"""The HTML flame graph of a gather/TaskGroup recording, in a real browser.

    python check_profile_html.py TORNSTACK OUTDIR CHROMIUM

Records profile_app.py, converts the folded file to HTML, and opens it in
headless Chromium twice: --dump-dom gives the document after the page's
script ran, and every frame and Task name of the recording must be a drawn
node of the flame graph (not just present in the embedded data), Task
frames with their own class, each thread's node titled with its count and
percentage of all stacks, a search given in the link lighting the right
nodes, and a click on a Task frame zooming to its subtree (a copy of the
page clicks it); --screenshot keeps a picture of the page in
OUTDIR (its path is printed).  A second, hand-written folded file with
hostile names (markup, ';' escaped as %3B, non-ASCII) must render as text
with no element injected.
"""
import html.parser
import os
import shutil
import subprocess
import sys
import tempfile

import livelib
import proflib

tornstack, outdir, chromium = sys.argv[1:4]
os.makedirs(outdir, exist_ok=True)
checked = []
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def page_pct(v, t):
    """A share as the page prints it: hundredths of a percent, half up, exact."""
    h = (v * 20000 + t) // (2 * t)
    return "%d.%02d%%" % (h // 100, h % 100)


def browser(args, page, fragment=""):
    """Run Chromium with a fresh profile directory, removed afterwards."""
    user_dir = tempfile.mkdtemp(prefix="tornstack-chromium-")
    try:
        r = subprocess.run([chromium, *FLAGS, "--user-data-dir=" + user_dir, *args,
                            "file://" + os.path.abspath(page) + fragment],
                           capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(user_dir, ignore_errors=True)
    if r.returncode != 0:
        livelib.fail("chromium exited %d: %s" % (r.returncode, r.stderr[-2000:]))
    return r.stdout


class Flame(html.parser.HTMLParser):
    """Nodes drawn inside <div id="flame">: (classes, text, title)."""

    def __init__(self):
        super().__init__()
        self.nodes, self.tags, self.body, self.text = [], [], {}, ""
        self.depth_in_flame = 0
        self.current = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "body":
            self.body = a
        if self.depth_in_flame:
            self.depth_in_flame += 1
            if tag == "div" and "f" in a.get("class", "").split():
                self.current = [a["class"].split(), "", a.get("title", ""), a.get("style", "")]
                self.nodes.append(self.current)
        elif tag == "div" and a.get("id") == "flame":
            self.depth_in_flame = 1

    def handle_endtag(self, tag):
        if self.depth_in_flame:
            self.depth_in_flame -= 1
            self.current = None

    def handle_data(self, data):
        self.text += data
        if self.current is not None:
            self.current[1] += data


def render(page, fragment=""):
    dom = browser(["--dump-dom"], page, fragment)
    p = Flame()
    p.feed(dom)
    if not p.body.get("data-rendered"):
        livelib.fail("the page's script did not finish (no data-rendered on body)")
    if not p.nodes:
        livelib.fail("no flame graph node was rendered; DOM starts %r" % dom[:500])
    return p


def expect_drawn(p, stacks, what):
    drawn = {}
    for classes, text, title, style in p.nodes:
        drawn.setdefault(text, set()).update(classes)
    names = {proflib.display(f) for st in stacks for f in st}
    missing = sorted(n for n in names if n not in drawn)
    if missing:
        livelib.fail("%s: frames of the recording not drawn: %r" % (what, missing[:20]))
    for n in names:
        if n.startswith("<task ") and "task" not in drawn[n]:
            livelib.fail("%s: Task frame %r drawn without the task class" % (what, n))
    return drawn, names


t = livelib.Target("profile_app.py")
try:
    folded = os.path.join(outdir, "browser.folded")
    proflib.record(tornstack, t.pid, folded, "folded", duration=1.5)
    truth = t.truth
finally:
    t.close()
stacks, _ = proflib.read_folded(folded)
total = sum(stacks.values())
page = os.path.join(outdir, "profile.html")
proflib.convert(tornstack, folded, page, "html", ("--title", "profile_app.py (gather + TaskGroup)"))
with open(page, encoding="utf-8") as f:
    content = f.read()
if "http://" in content.replace("http://www.w3.org", "") or "https://" in content:
    livelib.fail("the page refers to the network")
p = render(page)
drawn, names = expect_drawn(p, stacks, "recording")
for task in truth["tasks"]:
    if "<task %s>" % task not in drawn:
        livelib.fail("Task %r is not drawn" % task)
# each thread node carries its count and share of all stacks
per_thread = {}
for st, c in stacks.items():
    per_thread[proflib.display(st[0])] = per_thread.get(proflib.display(st[0]), 0) + c
for classes, text, title, style in p.nodes:
    if text in per_thread:
        want = "%s stacks, %s of all" % (format(per_thread[text], ","),
                                          page_pct(per_thread[text], total))
        if want not in title:
            livelib.fail("thread node %r titled %r, expected %r" % (text, title, want))
checked.append("%d frames and %d Tasks drawn, thread counts and percentages" % (
    len(names), len(truth["tasks"])))

# search, as a link gives it: the Task frames of batch-a's children light up,
# and the page counts their stacks once each
sp = render(page, "#search=fetch-a-")
lit = sorted(text for classes, text, title, style in sp.nodes if "match" in classes)
want_lit = sorted({proflib.display(f) for st in stacks for f in st
                   if f[0] == "task" and f[1].startswith("fetch-a-")})
if sorted(set(lit)) != want_lit:
    livelib.fail("search fetch-a- lit %r, expected %r" % (lit, want_lit))
matched = sum(c for st, c in stacks.items()
              if any(f[0] == "task" and f[1].startswith("fetch-a-") for f in st))
if "matched %s stacks (%s)" % (format(matched, ","), page_pct(matched, total)) not in sp.text:
    livelib.fail("search summary for %d of %d stacks not in %r" % (matched, total, sp.text[:300]))
checked.append("search (%d nodes lit, %d stacks matched)" % (len(lit), matched))

# zoom by click: a copy of the page clicks <task batch-a> once loaded; the
# node then spans the width, its ancestors are drawn as such, and nothing
# outside its subtree is drawn
zoom_page = os.path.join(outdir, "zoom.html")
with open(zoom_page, "w", encoding="utf-8") as f:
    f.write(content.replace("</body>", "<script>(function () {\n"
                            "  var el = Array.from(document.querySelectorAll('#flame .f')).find(\n"
                            "    function (e) { return e.textContent === '<task batch-a>'; });\n"
                            "  el.click();\n})();</script>\n</body>"))
zp = render(zoom_page)
ztexts = {text for classes, text, title, style in zp.nodes}
top = [n for n in zp.nodes if n[1] == "<task batch-a>" and "ancestor" not in n[0]]
if len(top) != 1 or "left: 0%" not in top[0][3] or "width: 100%" not in top[0][3]:
    livelib.fail("zoomed <task batch-a> is not one full-width node: %r" % top)
for text in ("<task fetch-a-0>", "<task fetch-a-2>", "leaf"):
    if text not in ztexts:
        livelib.fail("zoomed view lacks %r under batch-a" % text)
for text in ("<task batch-b>", "<task fetch-b-0>", "<task spinner>", "busy_loop"):
    if text in ztexts:
        livelib.fail("zoomed view still draws %r, outside batch-a" % text)
anc = {n[1] for n in zp.nodes if "ancestor" in n[0]}
if not {"all", "<task main>", "main"} <= anc:
    livelib.fail("zoomed view lacks its ancestors: %r" % sorted(anc))
if "of <task batch-a>" not in top[0][2]:
    livelib.fail("zoomed node's title lacks its share of the zoom: %r" % top[0][2])
checked.append("zoom by click (%d nodes drawn)" % len(zp.nodes))

shot = os.path.join(outdir, "profile.png")
if os.path.exists(shot):
    os.unlink(shot)
browser(["--screenshot=" + shot, "--window-size=1400,1000", "--hide-scrollbars"], page)
if not os.path.exists(shot) or os.path.getsize(shot) < 20000:
    livelib.fail("no usable screenshot at %s" % shot)
with open(shot, "rb") as f:
    if f.read(8) != b"\x89PNG\r\n\x1a\n":
        livelib.fail("%s is not a PNG" % shot)
print("screenshot: %s" % shot)
checked.append("screenshot")

# hostile names: markup, an escaped ';', non-ASCII; they must show as text
hostile = os.path.join(outdir, "hostile.folded")
with open(hostile, "w", encoding="utf-8") as f:
    f.write("<thread 7 w%3Bx>;<module> (/app/a&b.py:1);<task </script><img src=x>%3Bq>;"
            "na\u00efve\u2713 (/app/<b>.py:-1) 3\n"
            "<thread 7 w%3Bx>;<module> (/app/a&b.py:1);x%25y (/app/a.py:2) 1\n")
hpage = os.path.join(outdir, "hostile.html")
proflib.convert(tornstack, hostile, hpage, "html")
hp = render(hpage)
hstacks, _ = proflib.read_folded(hostile)
hdrawn, hnames = expect_drawn(hp, hstacks, "hostile names")
for want in ("<task </script><img src=x>;q>", "na\u00efve\u2713", "<thread 7 w;x>", "x%y"):
    if want not in hdrawn:
        livelib.fail("hostile name %r not drawn as text (drawn: %r)" % (want, sorted(hdrawn)))
if "img" in hp.tags or "b" in hp.tags:
    livelib.fail("a name injected an element into the page")
checked.append("hostile names drawn as text")
print("profile html: %d checks passed: %s" % (len(checked), "; ".join(checked)))
