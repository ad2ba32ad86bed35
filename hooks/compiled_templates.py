"""Compile each Jinja template once per build, not once per language and per notebook.

A cold build spends seconds compiling the same templates again: nbconvert makes a new
Jinja environment for every notebook page (0.2 s of compiling each), and the English
build gets a new environment for Material's templates. Jinja's bytecode cache keeps
the compiled code; this one keeps it in memory, for this process only. Jinja checks
each template's source against a checksum, so an edited template is compiled anew.
The pages come out byte for byte the same. Covered by tests/test_notebooks.py.
"""

import jinja2
from nbconvert.exporters.templateexporter import TemplateExporter


class CompiledTemplates(jinja2.BytecodeCache):
    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


COMPILED = CompiledTemplates()

# nbconvert (used by mkdocs-jupyter) creates its environment in this one method. The
# original is kept on the class: mkdocs serve imports this hook again on each rebuild.
if not hasattr(TemplateExporter, "_create_environment_uncached"):
    TemplateExporter._create_environment_uncached = TemplateExporter._create_environment
_create_environment = TemplateExporter._create_environment_uncached


def _with_compiled_templates(exporter):
    environment = _create_environment(exporter)
    environment.bytecode_cache = COMPILED
    return environment


TemplateExporter._create_environment = _with_compiled_templates


def on_env(env, config, files):
    """Material's templates, for each language's build."""
    env.bytecode_cache = COMPILED
    return env
