"""zh_forum — "山野茶馆": a Chinese forum in the style of Discuz! X (the most common forum software
on the Chinese web): an index of boards, thread lists per board, threads paginated five posts to
a page. Sellers post offers, others reply, ask, bargain or quote them.

    /forum.php                      boards                         (div.fl_g dt a)
    /forum-<fid>-<page>.html        a board's threads, 4 a page    (tbody#normalthread_<tid> a.xst, a.nxt)
    /thread-<tid>-<page>-1.html     a thread, 5 posts a page       (div#post_<pid>, div.pgt a.nxt)

Data: ``demo/sites/zh_forum/forum.json``: ``{"boards": [...], "threads": [{"tid", "fid", "title",
"posts": [{"pid", "author", "from", "posted", "text", "quote"?, "label", "category", "kind", "topic"}]}]}``.
Everything from the data is escaped.
"""

import json
import re
from html import escape as e
from pathlib import Path

from demo.reply import Reply

ROBOTS = "User-agent: *\nDisallow: /admin.php\nDisallow: /home.php?mod=spacecp\n"
THREADS_PER_PAGE = 4
POSTS_PER_PAGE = 5


def load_forum(data_dir, name="zh_forum"):
    with open(Path(data_dir) / name / "forum.json", encoding="utf-8") as f:
        return json.load(f)


class ZhForum:
    name, title, charset = "zh_forum", "山野茶馆", "utf-8"
    board_re = re.compile(r"/forum-(\d+)-(\d+)\.html")
    thread_re = re.compile(r"/thread-(\d+)-(\d+)-1\.html")

    def __init__(self, name, forum):
        self.boards = forum["boards"]
        self.threads = forum["threads"]
        self.by_tid = {t["tid"]: t for t in self.threads}
        self.listings = [  # every post, as the listings the crawler should find
            {**p, "tid": t["tid"], "thread_title": t["title"], "post_no": i + 1}
            for t in self.threads
            for i, p in enumerate(t["posts"])
        ]

    def thread_path(self, tid, page=1):
        return f"/thread-{tid}-{page}-1.html"

    def html(self, title, body, status=200):
        page = (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>{e(title)} - 山野茶馆 - Powered by Discuz!</title></head>\n<body id=\"nv_forum\">\n"
            '<div id="hd"><a href="forum.php" class="logo">山野茶馆</a></div>\n'
            f'<div id="wp" class="wp">\n{body}\n</div>\n'
            '<div id="ft">Powered by <strong>Discuz!</strong> X3.4 · 山野茶馆 · 闽ICP备00000000号</div>\n'
            "</body></html>\n"
        )
        return Reply(status, page.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8")])

    def __call__(self, raw_path):
        path = raw_path.split("?", 1)[0]
        if path == "/robots.txt":
            return Reply(200, ROBOTS.encode(), [("Content-Type", "text/plain")])
        if path in ("/", "/forum.php"):
            return self.index()
        if m := self.board_re.fullmatch(path):
            return self.board(m.group(1), int(m.group(2)))
        if m := self.thread_re.fullmatch(path):
            return self.thread(m.group(1), int(m.group(2)))
        return self.html("提示信息", '<div id="messagetext"><p>抱歉，指定的主题不存在或已被删除</p></div>', 404)

    def index(self):
        rows = "\n".join(
            f'<dl><dt><a href="forum-{b["fid"]}-1.html">{e(b["name"])}</a></dt>'
            f'<dd class="xg2">{e(b["desc"])}</dd>'
            f'<dd>主题: {sum(1 for t in self.threads if t["fid"] == b["fid"])}</dd></dl>'
            for b in self.boards
        )
        return self.html("论坛", f'<div class="fl bm"><div class="fl_g">\n{rows}\n</div></div>')

    def board(self, fid, page):
        board = next((b for b in self.boards if str(b["fid"]) == fid), None)
        threads = [t for t in self.threads if str(t["fid"]) == fid]
        chunk = threads[(page - 1) * THREADS_PER_PAGE : page * THREADS_PER_PAGE]
        if board is None or page < 1 or (page > 1 and not chunk):
            return self.html("提示信息", '<div id="messagetext"><p>指定的版块不存在</p></div>', 404)
        rows = "\n".join(
            f'<tbody id="normalthread_{e(t["tid"])}"><tr>'
            f'<th class="new"><a href="{self.thread_path(t["tid"])}" class="s xst">{e(t["title"])}</a></th>'
            f'<td class="by"><cite><a href="space-uid-1.html">{e(t["posts"][0]["author"])}</a></cite>'
            f'<em><span>{e(t["posts"][0]["posted"][:10])}</span></em></td>'
            f'<td class="num"><a class="xi2">{len(t["posts"]) - 1}</a></td></tr></tbody>'
            for t in chunk
        )
        nxt = (
            f'<a href="forum-{fid}-{page + 1}.html" class="nxt">下一页</a>'
            if page * THREADS_PER_PAGE < len(threads) else ""
        )
        return self.html(
            board["name"],
            f'<div class="bm_h"><h1 class="xs2"><a href="forum-{fid}-1.html">{e(board["name"])}</a></h1></div>\n'
            f'<table summary="forum_{fid}" id="threadlisttableid">\n{rows}\n</table>\n'
            f'<div class="pg"><strong>{page}</strong>{nxt}</div>',
        )

    def thread(self, tid, page):
        t = self.by_tid.get(tid)
        posts = t["posts"] if t else []
        chunk = posts[(page - 1) * POSTS_PER_PAGE : page * POSTS_PER_PAGE]
        if t is None or page < 1 or not chunk:
            return self.html("提示信息", '<div id="messagetext"><p>抱歉，指定的主题不存在或已被删除或正在被审核</p></div>', 404)
        body = "\n".join(self.post(p, (page - 1) * POSTS_PER_PAGE + i + 1) for i, p in enumerate(chunk))
        nxt = (
            f'<a href="{self.thread_path(tid, page + 1)}" class="nxt">下一页</a>'
            if page * POSTS_PER_PAGE < len(posts) else ""
        )
        board = next(b for b in self.boards if b["fid"] == t["fid"])
        return self.html(
            t["title"],
            f'<div id="pt" class="bm cl"><a href="forum.php">山野茶馆</a> <em>›</em> '
            f'<a href="forum-{t["fid"]}-1.html">{e(board["name"])}</a> <em>›</em> '
            f'<a href="{self.thread_path(tid)}">{e(t["title"])}</a></div>\n'
            f'<div class="pgt"><div class="pg"><strong>{page}</strong>{nxt}</div></div>\n'
            f'<div id="postlist" class="pl bm">\n<h1 class="ts"><span id="thread_subject">{e(t["title"])}</span></h1>\n'
            f"{body}\n</div>",
        )

    def post(self, p, floor):
        pid = e(p["pid"])
        lines = "<br />\n".join(e(line) for line in p["text"].split("\n") if line.strip())
        quote = ""
        if p.get("quote"):
            quote = (
                f'<div class="quote"><blockquote><font size="2"><font color="#999999">'
                f'{e(p["quote"]["author"])} 发表于 {e(p["quote"]["posted"])}</font></font><br />'
                f'{e(p["quote"]["text"])}</blockquote></div><br />\n'
            )
        return (
            f'<div id="post_{pid}"><table id="pid{pid}" class="plhin" cellspacing="0" cellpadding="0"><tr>\n'
            f'<td class="pls" rowspan="2"><div class="pi"><div class="authi">'
            f'<a href="space-uid-{pid}.html" class="xw1">{e(p["author"])}</a></div></div>'
            f'<dl class="pil cl"><dt>来自</dt><dd>{e(p["from"])}</dd></dl></td>\n'
            f'<td class="plc"><div class="pi"><strong><a href="#pid{pid}" id="postnum{pid}">'
            f"<em>{floor}</em><sup>#</sup></a></strong>"
            f'<div class="pti"><div class="authi"><em id="authorposton{pid}">发表于 {e(p["posted"])}</em></div></div></div>\n'
            f'<div class="pct"><div class="t_fsz"><table cellspacing="0" cellpadding="0"><tr>'
            f'<td class="t_f" id="postmessage_{pid}">\n{quote}{lines}</td></tr></table></div></div></td>'
            "</tr></table></div>"
        )
