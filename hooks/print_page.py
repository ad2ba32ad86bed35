"""The whole course on one page, in each language: mkdocs-print-site-plugin under i18n.

print-site makes one page of all the pages in the navigation (print_page/), for
reading offline or saving as PDF. It does not know about mkdocs-static-i18n, which
builds the English site by running the build a second time: print-site would write
the English print page over the Chinese one, with the Chinese title, and add its
stylesheet and script to the config a second time. After both plugins have read
the config of each build (i18n's on_config is at -100), this hook gives print-site
the print page of that build's language, at print_page/ or en/print_page/, with
its title, and a place at the end of that language's navigation; and drops the
repeated stylesheet and script, and the empty heading of the notebooks' section;
makes links to notebook pages lead to them, and links to the home page to its
anchor; and fixes the English print page's image paths (print-site assumes its page
is at the root).

It also replaces print-site's slowest function by one that does the same in one pass.
Relies on mkdocs-print-site-plugin 2.9 (print_file, print_page, renderer, its exclude,
get_page_key and update_anchor_ids functions)
and mkdocs-static-i18n 1.3 (current_language), both pinned in pyproject.toml.
Covered by tests/test_site.py and tests/test_browser.py.
"""

import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url
from mkdocs_print_site_plugin import urls
from mkdocs_print_site_plugin.exclude import exclude
from mkdocs_print_site_plugin.urls import get_page_key

# print-site's update_anchor_ids prefixes the ids of headings, footnotes and list items
# with the page's key, so they stay unique on the print page. Its regex looks for an id
# in every tag and re-replaces the whole page for each match: on our pages (an id on
# every line of code) it took 1.2 s of every build. The same change in one pass:
ANCHOR_ID = re.compile(r'<(h[1-6]|sup|li)(\s[^>]*?)\bid="([^"]*)"', re.IGNORECASE)


def update_anchor_ids(page_html: str, page_key: str) -> str:
    return ANCHOR_ID.sub(lambda m: f'<{m[1]}{m[2]}id="{page_key}-{m[3]}"', page_html)


urls.update_anchor_ids = update_anchor_ids  # fix_internal_links calls it by this name

# Per language: where the page is, its title (also in the navigation), the title of
# its table of contents.
PRINT_PAGES = {
    "zh": ("print_page.md", "整门课程（打印版）", "目录"),
    "en": ("en/print_page.md", "The whole course (print)", "Contents"),
}


@event_priority(-150)  # after print-site (0) and i18n (-100)
def on_config(config):
    plugin = config.plugins["print-site"]
    path, title, toc_title = PRINT_PAGES[config.plugins["i18n"].current_language]
    plugin.config["print_page_title"] = title
    plugin.config["toc_title"] = toc_title
    plugin.print_file = File(path, "", config.site_dir, config.use_directory_urls)
    plugin.print_page = Page(title, plugin.print_file, config)
    plugin.print_page.edit_url = None
    plugin.renderer.print_page = plugin.print_page
    for key in ("extra_css", "extra_javascript"):
        config[key] = once(config[key])
    return config


# The pages left out of this build's print page: print-site's anchor for each (its
# links to them become `#<key>` or `#<key>-<anchor>`), and the page's URL.
left_out: dict[str, str] = {}


@event_priority(-150)  # after i18n (-100), which rebuilds the navigation of each language
def on_nav(nav, config, files):
    """The print page, last in the navigation of each language. What it prints: the
    navigation, without the section of notebook pages (print-site's `exclude` drops
    the pages but would still print the section's heading, with nothing under it)."""
    plugin = config.plugins["print-site"]
    left_out.clear()

    def printed(item) -> bool:
        if item.is_section:
            return any([printed(child) for child in item.children])
        if item.is_page and exclude(item.file.src_path, plugin.config["exclude"]):
            left_out[get_page_key(item.url)] = item.url
        return item.is_page and item.url not in left_out.values()

    plugin.renderer.items = [item for item in nav.items if printed(item)]
    nav.items.append(plugin.print_page)
    nav.pages.append(plugin.print_page)
    return nav


# An image's path on the print page, as print-site writes it: relative to print_page/
# at the site's root (mkdocs_print_site_plugin.urls.get_url_from_root).
IMAGE = re.compile(r'(<img\b[^>]*\bsrc=")(?![a-z]+:|/)')


@event_priority(-50)  # after print-site (0) wrote the page, before i18n (-100) builds English
def on_post_build(config):
    """Fixes to the print page print-site wrote: links to a page left out of it lead to
    that page (not to an anchor that isn't there); links to the home page lead to its
    anchor; and the English print page is one level deeper (en/print_page/), so its
    images need one more `../`."""
    page = config.plugins["print-site"].print_file
    path = Path(page.abs_dest_path)
    html = path.read_text(encoding="utf-8")
    if left_out:
        to_page = re.compile(rf'href="#({"|".join(map(re.escape, left_out))})(?:-([^"]*))?"')
        html = to_page.sub(
            lambda m: 'href="{}{}"'.format(
                get_relative_url(left_out[m[1]], page.url), f"#{m[2]}" if m[2] else ""
            ),
            html,
        )
    # print-site makes "#." of a link to the home page ("../"); its anchor is "#index"
    html = html.replace('href="#."', 'href="#index"')
    deeper = page.url.count("/") - 1
    html = IMAGE.sub(r"\g<1>" + "../" * deeper, html)
    path.write_text(html, encoding="utf-8")


def once(values: list) -> list:
    """Each value once, first place kept (scripts may be objects: compare their paths)."""
    seen = set()
    return [v for v in values if not (str(v) in seen or seen.add(str(v)))]
