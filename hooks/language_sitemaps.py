"""Give each language root its own sitemap.xml.

Material's language selector fetches `sitemap.xml` under every language link of
`extra.alternate` (`./` and `en/`). mkdocs-static-i18n writes one sitemap, at the
site root, listing the pages of both languages; without a copy under `en/`,
every page load logs a 404 in the browser console. This hook copies it after
all languages are built (mkdocs-static-i18n builds the others in its own
on_post_build, priority -100; we run after it).
"""

import shutil
from pathlib import Path

from mkdocs.plugins import event_priority


@event_priority(-200)
def on_post_build(config) -> None:
    site = Path(config.site_dir)
    for alternate in config.extra.get("alternate", []):
        root = site / alternate["link"]
        if root.resolve() == site.resolve() or not root.is_dir():
            continue
        for name in ("sitemap.xml", "sitemap.xml.gz"):
            if (site / name).exists():
                shutil.copyfile(site / name, root / name)
