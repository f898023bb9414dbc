import json

import pytest

from demo.server import DATA_DIR, SITES, DemoSites

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'

# A few hand-made rows per site; the rest is filler so that every site has several pages.
ROWS = {
    "zh_market": [
        ("出闲置 " + HOSTILE, "别点我 " + HOSTILE, "¥ 50"),
        ("老料白货手镯🐘", "家里老人留下的。\n成色很好，懂的来\n\n加V: fake_id_12", "面议"),
        ("象牙白连衣裙 M码", "颜色是象牙白，穿过两次", "¥120"),
        ("九成新 iPhone 12", "电池健康 88%", "¥2300"),
        ("实木书桌 搬家急出", "自提，广州天河\n桌面有划痕", "¥300"),
    ],
    "vi_classifieds": [
        ("Thanh lý " + HOSTILE, "Đừng bấm " + HOSTILE, "50.000 đ"),
        (
            "Vòng ngà voi 🐘 hàng xưa",
            "Đồ của ông để lại.\nAi cần ib zalo 09xx.xxx.xxx",
            "Thỏa thuận",
        ),
        ("Đầm màu ngà size M", "Mặc 2 lần, còn mới", "250.000 đ"),
        ("Xe đạp trẻ em", "Bé lớn rồi nên bán", "800k"),
        ("Bàn gỗ thông", "Tự vận chuyển", "1,2 triệu"),
        ("Sữa Bear Brand thùng 48 hộp", "Date xa", "420.000 đ"),
        ("Đồng hồ Đức cổ, đẹp long lanh", "Chạy tốt.\nLiên hệ: 09xx.xxx.xxx", "3 triệu"),
    ],
    "en_market": [
        ("Clearance " + HOSTILE, "Do not click " + HOSTILE, "$5"),
        (
            "Antique ivory bangle 🐘",
            "Old stock from grandma.\nDM me, serious only\n\nWhatsApp +1 555 0100",
            "$450",
        ),
        ("Ivory lace wedding dress", "Colour: ivory. Worn once.", "$180"),
        ("Bike, 21 speed", "Needs a new chain", "$60"),
        ("Oak desk", "Pick up only", "$75"),
    ],
}
FILLER = {"zh_market": "二手物品", "vi_classifieds": "Đồ cũ giá rẻ", "en_market": "Used item"}
COUNT = {"zh_market": 25, "vi_classifieds": 30, "en_market": 21}


def make_listings(site):
    rows = ROWS[site] + [
        (f"{FILLER[site]} {i}", f"{FILLER[site]} no. {i}", f"{i}0")
        for i in range(len(ROWS[site]), COUNT[site])
    ]
    return [
        {
            "id": str(2000 + i),
            "title": title,
            "text": text,
            "price": price,
            "seller": f"seller<{i}>",
            "location": "Hà Nội" if site == "vi_classifieds" else "广州",
            "posted": f"{i} days ago",
            "label": "negative",
            "category": "none",
            "kind": "ordinary",
            "topic": "none",
        }
        for i, (title, text, price) in enumerate(rows)
    ]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("sites")
    for site in ROWS:
        (root / site).mkdir()
        (root / site / "listings.json").write_text(
            json.dumps(make_listings(site), ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return root


@pytest.fixture(scope="session")
def sites(data_dir):
    with DemoSites(data_dir=data_dir) as sites:
        yield sites


@pytest.fixture(scope="session")
def real_sites():
    """The shipped demo data (demo/sites/*/listings.json), when it is there."""
    if not all((DATA_DIR / site / "listings.json").exists() for site in SITES):
        pytest.skip("demo/sites/*/listings.json not written yet")
    with DemoSites() as sites:
        yield sites


@pytest.fixture(scope="session", params=["fixture_data", "real_data"])
def any_sites(request):
    return request.getfixturevalue(
        {"fixture_data": "sites", "real_data": "real_sites"}[request.param]
    )
