"""The ``povmap`` command: a thin layer over the Python API.

Exit codes: 0 success, 1 bad input (a message naming the file, row or column), 2 wrong usage.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import os
import signal
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._errors import LANGS, PovmapError, in_lang, reason
from ._messages import entry, has, keys, text
from ._messages import message as errors_message
from ._privacy import mask_text
from ._safe_text import terminal_text
from .defaults import (
    ALPHA,
    FUZZY_THRESHOLD,
    MAX_PRECISION,
    MIN_COVERAGE,
    PERMUTATIONS,
    PRECISION,
    SEED,
    SNAP_M,
    TARGET_PERCENT,
    TOLERANCE_POINTS,
)

if TYPE_CHECKING:
    from .pipeline import Options
    from .result import Result

# The analysis stack (geopandas, folium, esda, matplotlib) is imported inside the commands that
# use it, so that ``povmap --help`` and a usage error answer at once.

LEVEL = click.Choice(["desa", "kecamatan"])
#: The language of the command line being run (:func:`argv_lang`): the default of ``--lang``,
#: and the language of its help and of click's own words.
_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("povmap_lang", default="id")


class _Option(click.Option):
    """An option that also answers to its spelling of an earlier release, without showing it."""

    def __init__(self, *args, old: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.old = old

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown = self.opts
        self.opts = [opt for opt in shown if opt != self.old]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


def renamed_option(new: str, old: str, name: str, **kwargs):
    """Option ``new`` (English, the name shown), answering to ``old`` (its Indonesian spelling
    up to povmap 0.1) for one more release; the value reaches the command as ``name``."""
    return click.option(new, old, name, cls=_Option, old=old, **kwargs)


def _fail_cleanly(command):
    """Turn errors into exit 1 with a message, never a traceback.

    Input errors carry their own message. Anything else is povmap's fault: the user gets one line
    saying so, and ``POVMAP_DEBUG=1`` shows the traceback for the bug report. Library warnings
    (matplotlib's missing glyphs, numpy, GDAL) never reach the terminal raw: the stages translate
    the ones a user must know into report notes, and the rest are silenced here, except with
    ``POVMAP_DEBUG=1``.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        _unwind_on_termination()
        try:
            with warnings.catch_warnings(), _progress_bars(kwargs):
                if not os.environ.get("POVMAP_DEBUG"):
                    warnings.simplefilter("ignore")
                return command(*args, **kwargs)
        except KeyboardInterrupt:
            # Ctrl-C: the staged outputs were removed while the exception unwound.
            _say(text("cli.stopped", _lang(kwargs)))
            sys.exit(130)
        except click.UsageError as exc:
            # A malformed option parsed inside the command (--breaks, --column-map) is wrong
            # usage: click prints it with the usage line and exits 2.
            exc.ctx = exc.ctx or click.get_current_context(silent=True)
            raise
        except (PovmapError, OSError, ValueError) as exc:
            lang = _lang(kwargs)
            # A library's own message may quote a cell: mask NIK and phone numbers in it too.
            if isinstance(exc, PovmapError):
                message = exc.message(lang)
            elif isinstance(exc, OSError):
                # The system's own words ("No such file or directory") are English: say it
                # in the catalogue's, naming the file.
                message = in_lang(
                    errors_message("cli.os_error", path=exc.filename or "-", reason=reason(exc)),
                    lang,
                )
            else:
                message = mask_text(str(exc))
            _say(text("cli.error", lang, message=message))
            sys.exit(1)
        except Exception as exc:
            if os.environ.get("POVMAP_DEBUG"):
                raise
            _say(
                text(
                    "cli.unexpected", _lang(kwargs), error=mask_text(f"{type(exc).__name__}: {exc}")
                )
            )
            sys.exit(1)

    return wrapper


def _progress_bars(kwargs: dict):
    """Progress bars for the command's slow steps, on a terminal unless ``povmap --quiet``."""
    from ._progress import session

    context = click.get_current_context(silent=True)
    root = context.find_root().obj if context is not None else None
    return session(_lang(kwargs), quiet=bool(root and root.get("quiet")))


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _unwind_on_termination() -> None:
    """Make SIGTERM and SIGHUP (kill, a closed terminal, a service manager) unwind the run like
    Ctrl-C, so that its staged outputs and locks are removed and earlier outputs stay whole.
    Python's default for them ends the process on the spot, leaving hidden staging folders."""
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            with contextlib.suppress(ValueError):  # not the main thread (an embedding app)
                signal.signal(number, _terminated)


def _lang(kwargs: dict) -> str:
    """The command's ``--lang``, so that its errors are printed in the user's language."""
    return "en" if kwargs.get("lang") == "en" else "id"


def _writes(files=None, folders=None, inputs=("boundaries", "counts")):
    """Run a command inside one :func:`~povmap._io.staged_outputs`: all its outputs or none.

    ``files`` and ``folders`` give the command's outputs from its parameters; ``inputs`` names
    the parameters holding its input files (or gives them from the parameters). So before any
    work the outputs are checked against the inputs and locked, and they are committed together
    when the command ends.
    """

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, **kw):
            # Imported when a command runs, not for --help: _io pulls in ctypes, hashlib, tempfile.
            from ._io import staged_outputs

            read = inputs(kw) if callable(inputs) else [kw.get(name) for name in inputs]
            with staged_outputs(
                files(kw) if files else (), folders(kw) if folders else (), inputs=read
            ) as outputs:
                command(*args, **kw)
            if outputs.removed:
                names = ", ".join(p.name for p in outputs.removed)
                click.echo(text("cli.removed", _lang(kw), names=names), err=True)

        return wrapper

    return decorate


def _parse_pairs(values: tuple[str, ...], option: str, lang: str = "id") -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, header = value.partition("=")
        if not sep or not key.strip() or not header.strip():
            raise click.BadParameter(text("cli.pair", lang, value=repr(value)), param_hint=option)
        pairs[key.strip()] = header.strip()
    return pairs


def _parse_breaks(value: str | None, lang: str = "id") -> tuple[float, ...] | None:
    """``1,2.5,5``, or with semicolons the Indonesian way ``1;2,5;5``; rising, no duplicates."""
    from .counts import parse_number

    if not value:
        return None
    parts = [v for v in value.split(";" if ";" in value else ",") if v.strip()]
    try:
        if not parts:
            raise ValueError(value)
        breaks = tuple(parse_number(v) if ";" in value else float(v) for v in parts)
    except ValueError:
        raise click.BadParameter(
            text("cli.breaks_format", lang, value=repr(value)), param_hint="--breaks"
        ) from None
    if any(b != b for b in breaks) or list(breaks) != sorted(set(breaks)):
        raise click.BadParameter(
            text("cli.breaks_rising", lang, value=repr(value)), param_hint="--breaks"
        )
    return breaks


#: Options of every command that reads boundary files and counts tables (not the arguments).
_READ_OPTIONS = [
    click.option("--layer", default=None),
    click.option("--sheet", default=None),
    click.option("--column-map", multiple=True),
    click.option("--columns", "boundary_columns", multiple=True),
    click.option(
        "--engine", type=click.Choice(["pyogrio", "fiona"]), default="pyogrio", show_default=True
    ),
    click.option("--crs", default=None, metavar="EPSG:xxxx"),
    click.option("--encoding", default=None),
    click.option("--keep-duplicates", is_flag=True),
    click.option("--lang", type=click.Choice(LANGS), default=lambda: _LANG.get()),
    click.option(
        "--fuzzy-threshold",
        type=click.FloatRange(0, 101),
        default=FUZZY_THRESHOLD,
        show_default=True,
    ),
    click.option("--allow-invalid", is_flag=True),
]


def read_options(command):
    """The reading options (:data:`_READ_OPTIONS`) alone, for commands with other arguments."""
    for decorator in reversed(_READ_OPTIONS):
        command = decorator(command)
    return command


def input_options(command):
    """Options every command that reads a boundary file and a counts table shares."""
    for decorator in reversed(
        [
            click.argument("boundaries", type=click.Path(dir_okay=False, path_type=Path)),
            click.argument("counts", type=click.Path(dir_okay=False, path_type=Path)),
            click.option("--level", type=LEVEL, default="desa", show_default=True),
            *_READ_OPTIONS,
        ]
    ):
        command = decorator(command)
    return command


def class_options(command):
    """Options choosing the mapped value and its classes."""
    for decorator in reversed(
        [
            click.option("--column", default="persen_miskin_ekstrem", show_default=True),
            click.option(
                "--scheme",
                type=click.Choice(
                    ["quantiles", "fisher_jenks", "equal_interval", "natural_breaks"]
                ),
                default="quantiles",
                show_default=True,
            ),
            click.option("-k", "k", type=click.IntRange(2, 9), default=5, show_default=True),
            click.option("--breaks", default=None),
            renamed_option(
                "--min-coverage",
                "--min-berdata",
                "min_coverage",
                type=click.FloatRange(0, 100),
                default=100 * MIN_COVERAGE,
                show_default=True,
            ),
        ]
    ):
        command = decorator(command)
    return command


def _options(kw: dict) -> Options:
    from .pipeline import Options

    sheet = kw.get("sheet")
    return Options(
        level=kw["level"],
        lang=kw["lang"],
        engine=kw["engine"],
        layer=kw.get("layer"),
        sheet=int(sheet) if sheet and sheet.isdigit() else sheet,
        column_map=_parse_pairs(kw.get("column_map", ()), "--column-map", kw["lang"]),
        boundary_columns=_parse_pairs(kw.get("boundary_columns", ()), "--columns", kw["lang"]),
        column=kw.get("column", "persen_miskin_ekstrem"),
        scheme=kw.get("scheme", "quantiles"),
        k=kw.get("k", 5),
        breaks=_parse_breaks(kw.get("breaks"), kw["lang"]),
        fuzzy_threshold=kw.get("fuzzy_threshold", FUZZY_THRESHOLD),
        pockets=kw.get("pockets", False),
        allow_invalid=kw.get("allow_invalid", False),
        crs=kw.get("crs"),
        encoding=kw.get("encoding"),
        keep_duplicates=kw.get("keep_duplicates", False),
        min_coverage=kw.get("min_coverage", 100 * MIN_COVERAGE) / 100,
    )


def _run(boundaries: Path, counts: Path, kw: dict) -> Result:
    """The pipeline with the command's options."""
    from .pipeline import run

    return run(boundaries, counts, _options(kw))


def _say(line: str) -> None:
    """A report or an error on stderr; names in it may hold escape sequences: shown, not run."""
    click.echo(terminal_text(line), err=True)


def _echo_report(result: Result, lang: str) -> None:
    _say(result.report.summary(lang))
    if result.pockets is not None:
        _say(result.pockets.summary(lang))


def suppress_option(command):
    """``--suppress-below N``: small-cell suppression for anything published."""
    return click.option("--suppress-below", type=int, default=None, metavar="N")(command)


def pockets_option(command):
    """``--pockets``: find poverty pockets and add them to the map or the bundle."""
    return renamed_option("--pockets", "--kantong", "pockets", is_flag=True)(command)


#: click's modules that look their words up with gettext (``_`` and ``ngettext``).
_CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types")


def argv_lang(args: list[str]) -> str:
    """The language a command line asks for: its last ``--lang``, wherever it stands (also after
    a usage error), else ``POVMAP_LANG``, else Indonesian.

    Examples
    --------
    >>> argv_lang(["map", "--lang", "en"]), argv_lang(["map", "--lang=en", "x"])
    ('en', 'en')
    """
    # Spelt as a person sets it: POVMAP_LANG=EN or " en " means English.
    lang = os.environ.get("POVMAP_LANG", "id").strip().lower()
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            lang = args[i + 1]
        elif arg.startswith("--lang="):
            lang = arg.partition("=")[2]
    return lang if lang in LANGS else "id"


@contextlib.contextmanager
def _click_speaks(lang: str):
    """click's own words (``Usage:``, ``Missing argument``, ``Show this message and exit.``) in
    ``lang`` while a command line is parsed and run.

    click looks them up through gettext, with ``_`` and ``ngettext`` bound in each of its modules;
    povmap ships no ``.mo`` files, so for the run those names look in the catalogue's ``click.*``
    entries (keyed by click's English), and click's own functions are put back afterwards.
    """
    if lang == "en":
        yield
        return
    words = {entry(key)["en"]: entry(key)[lang] for key in keys() if key.startswith("click.")}

    def gettext(message: str) -> str:
        return words.get(message, message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return gettext(singular if n == 1 else plural)

    saved = []
    for name in _CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        for attr, ours in (("_", gettext), ("ngettext", ngettext)):
            if hasattr(module, attr):
                saved.append((module, attr, getattr(module, attr)))
                setattr(module, attr, ours)
    try:
        yield
    finally:
        for module, attr, theirs in saved:
            setattr(module, attr, theirs)


def _help_in(group: click.Group, lang: str) -> None:
    """Set the help of every command and option from the catalogue, in ``lang``.

    ``help.command.<command>``; an option's ``help.<command>.<option>`` or else
    ``help.option.<option>``; ``metavar.<option>`` where its value has a name of its own, and
    ``metavar.<argument>`` for each argument (usage lines and "Missing argument" name it).
    """
    group.subcommand_metavar = text("help.subcommand_metavar", lang)
    for name, command in [("povmap", group), *group.commands.items()]:
        if has(f"help.command.{name}"):
            command.help = text(f"help.command.{name}", lang)
        command.options_metavar = text("help.options_metavar", lang)
        for param in command.params:
            if isinstance(param, click.Argument) and has(f"metavar.{param.name}"):
                param.metavar = text(f"metavar.{param.name}", lang)
            if not isinstance(param, click.Option):
                continue
            for key in (f"help.{name}.{param.name}", f"help.option.{param.name}"):
                if has(key):
                    param.help = text(key, lang)
                    break
            if has(f"metavar.{param.name}"):
                param.metavar = text(f"metavar.{param.name}", lang)
            elif param.metavar is None or getattr(param, "_povmap_kind", None):
                # click names a value by its type in English (TEXT, INTEGER, FILE): ours.
                kind = _value_kind(param.type)
                if kind:
                    param.metavar = text(f"metavar.type.{kind}", lang)
                    param._povmap_kind = kind  # type: ignore[attr-defined]


def _value_kind(kind: click.ParamType) -> str | None:
    """The catalogue's name for a value of type ``kind`` (``metavar.type.<name>``), if any."""
    if isinstance(kind, click.Path):
        return (
            "path"
            if kind.file_okay and kind.dir_okay
            else "file"
            if kind.file_okay
            else ("directory")
        )
    name = getattr(kind, "name", "").split(" ")[0]  # IntRange is "integer range"
    return name if name in ("text", "integer", "float") else None


class _Command(click.Command):
    """A povmap command: ``--help`` says what it does in the run's language."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:  # click makes it once per command, in the first run's language
            option.help = text("click.help", _LANG.get())
        return option


class _Povmap(_Command, click.Group):
    """The ``povmap`` group: parses and runs a command line in the language it asks for
    (:func:`argv_lang`), help texts, usage errors and click's own words included."""

    command_class = _Command

    def main(self, args=None, *rest, **extra):
        args = list(sys.argv[1:] if args is None else args)
        lang = argv_lang(args)
        token = _LANG.set(lang)
        try:
            _help_in(self, lang)
            with _click_speaks(lang):
                return super().main(args, *rest, **extra)
        finally:
            _LANG.reset(token)


class _VersionLine(str):
    """``povmap --version``'s line in the run's language: click fills it in when it prints it
    (``message % {"prog": ..., "version": ...}``), after the language is known."""

    def __mod__(self, values):
        return text("click.version_line", _LANG.get()) % values


@click.group(cls=_Povmap, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="povmap", message=_VersionLine())
# Read before parsing (argv_lang): `povmap --lang en map ...` runs the command in English.
@click.option("--lang", type=click.Choice(LANGS), default=lambda: _LANG.get())
@click.option("-q", "--quiet", is_flag=True)
@click.pass_context
def main(ctx: click.Context, lang: str, quiet: bool) -> None:
    """The ``povmap`` command (help text: ``help.command.povmap`` in messages.toml)."""
    ctx.obj = {"quiet": quiet}


@main.command("join")
@input_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--strict", is_flag=True)
@_fail_cleanly
@_writes(files=lambda kw: [kw["output"], kw["report"]])
def join_command(boundaries, counts, output, report, strict, **kw) -> None:
    """``povmap join`` (help text: ``help.command.join`` in messages.toml)."""
    from .export import write_geojson, write_gpkg

    _check_join_output(output)
    result = _run(boundaries, counts, kw)
    _echo_report(result, kw["lang"])
    if strict and not result.report.complete:
        raise PovmapError.from_catalogue(
            "cli.strict",
            counts=counts,
            unmatched=len(result.report.unmatched_counts),
            ambiguous=len(result.report.ambiguous),
        )
    if _check_join_output(output) == "geojson":
        write_geojson(result.main, output, layer=output.stem)
    else:
        write_gpkg(result.layers, output)
    if report:
        result.report.write(report)
    click.echo(str(output))


def _check_join_output(output: Path) -> str:
    """``"geojson"`` or ``"gpkg"``, the format ``join -o`` writes, by the file's suffix."""
    formats = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
    if output.suffix.lower() not in formats:
        raise PovmapError.from_catalogue("cli.join_output", output=output)
    return formats[output.suffix.lower()]


@main.command("map")
@input_options
@class_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--title", default=None)
@click.option("--source", default=None)
@click.option("--vintage", default=None)
@click.option("--tiles", default="osm", show_default=True)
@click.option("--cdn", is_flag=True)
@click.option(
    "--atlas", "atlas_path", type=click.Path(dir_okay=False, path_type=Path), default=None
)
@click.option("--national/--no-national", default=None)
@suppress_option
@pockets_option
@_fail_cleanly
@_writes(
    files=lambda kw: [kw["output"], kw["output"].with_suffix(".manifest.json"), kw["atlas_path"]]
)
def map_command(
    boundaries,
    counts,
    output,
    title,
    source,
    vintage,
    tiles,
    cdn,
    atlas_path,
    national,
    suppress_below,
    **kw,
) -> None:
    """``povmap map`` (help text: ``help.command.map`` in messages.toml)."""
    # Without folium: it loads below while the layer is simplified for the web.
    from .render.choice import basemap_name, check_map_output, simplified_ahead

    check_map_output(output)  # a wrong -o or --tiles fails before the analysis, not after it
    if output.suffix.lower() in (".html", ".htm"):
        basemap_name(tiles)
    if suppress_below is not None:
        # The export package (writers, styles, KUGI) loads only for a suppressed map.
        from .export.suppress import check_threshold, suppress_result

        check_threshold(suppress_below)
    result = _run(boundaries, counts, kw)
    _echo_report(result, kw["lang"])
    pockets = None
    if suppress_below is not None:
        # The same protection as the geoportal bundle: a published map must not single out
        # households either, in the tooltips, the legend, the kecamatan layer or the pockets
        # (drawn from the suppressed desa layer, whose blanked rows have no pocket flag).
        result = suppress_result(result, suppress_below)
        if result.pockets is not None:
            pockets = result.layers["desa"]
    # GEOS cleans the coverage in a thread (it releases the GIL) while folium loads and the page
    # is assembled; choropleth takes the simplified layer from it.
    with simplified_ahead(result.classified().gdf, output, national):
        from .render.output import write_map

        write_map(
            result,
            output,
            title=title,
            source=source,
            tiles=tiles,
            lang=kw["lang"],
            offline=not cdn,
            vintage=vintage,
            atlas_path=atlas_path,
            pockets=pockets,
            national=national,
        )
    click.echo(str(output))
    if atlas_path:
        click.echo(str(atlas_path))


@main.command("export")
@input_options
@class_options
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--format", "formats", default="geojson,gpkg", show_default=True)
@suppress_option
@click.option(
    "--precision", type=click.IntRange(0, MAX_PRECISION), default=PRECISION, show_default=True
)
@click.option(
    "--metadata", "metadata_config", type=click.Path(dir_okay=False, path_type=Path), default=None
)
@click.option("--vintage", default=None)
@click.option("--title", default=None)
@renamed_option("--organization", "--organisasi", "organization", default=None)
@click.option("--email", default=None)
@renamed_option("--license", "--lisensi", "license", default=None)
@click.option("--split", type=click.Choice(["provinsi"]), default=None)
@pockets_option
@click.option(
    "--sasaran",
    "sasaran_register",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="REGISTER",
)
@_fail_cleanly
@_writes(
    folders=lambda kw: [kw["output"]],
    inputs=("boundaries", "counts", "metadata_config", "sasaran_register"),
)
def export_command(
    boundaries,
    counts,
    output,
    formats,
    suppress_below,
    precision,
    metadata_config,
    vintage,
    title,
    organization,
    email,
    license,
    sasaran_register,
    split,
    **kw,
) -> None:
    """``povmap export`` (help text: ``help.command.export`` in messages.toml)."""
    from .export import BundleOptions, export_result
    from .export.metadata import load_config, with_options

    config = with_options(
        load_config(metadata_config) if metadata_config else None,
        organization=organization,
        email=email,
        license=license,
        data_period=vintage,
    )
    settings = BundleOptions(
        formats=tuple(f.strip().lower() for f in formats.split(",") if f.strip()),
        precision=precision,
        lang=kw["lang"],
        title=title or config.title,
        vintage=vintage or config.data_period,
        metadata=config,
        suppress_below=suppress_below,
        split=split,
    ).checked()  # bad options fail before the analysis, not after it
    result = _run(boundaries, counts, kw)
    _echo_report(result, kw["lang"])
    also = None
    if sasaran_register is not None:
        also = _targeting_layers(boundaries, sasaran_register, settings, kw)
    written = export_result(result, output, settings, command=sys.argv, also=also)
    if config.missing():
        missing = ", ".join(config.missing())
        click.echo(text("cli.metadata_missing", kw["lang"], missing=missing), err=True)
    for path in written:
        click.echo(str(path))


def _targeting_layers(boundaries: Path, register: Path, settings, kw: dict):
    """``export --sasaran``: the targeting of ``register``, as a writer of its bundle layers."""
    from .export.sasaran import write_targeting_layers
    from .pipeline import check_order
    from .targeting import targeting

    check_order(boundaries, register)
    options = _options({**kw, "level": "desa"})
    found = targeting(
        register,
        boundaries,
        fuzzy_threshold=options.fuzzy_threshold,
        allow_invalid=options.allow_invalid,
        boundary_options=options.boundary_options(),
        register_options=options.counts_options(),
        lang=kw["lang"],
    )
    _say(found.summary(kw["lang"]))
    return lambda folder: write_targeting_layers(found, folder, settings)


@main.command("pockets")
@input_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--column", default="persen_miskin_ekstrem", show_default=True)
@click.option(
    "--method", type=click.Choice(["moran", "getis_ord"]), default="moran", show_default=True
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=ALPHA,
    show_default=True,
)
@click.option("--no-fdr", is_flag=True)
@click.option("--permutations", type=click.IntRange(99), default=PERMUTATIONS, show_default=True)
@click.option("--seed", type=int, default=SEED, show_default=True)
@click.option("--snap", "snap_m", type=click.FloatRange(0), default=SNAP_M, show_default=True)
@click.option("--ranking", type=click.Path(dir_okay=False, path_type=Path), default=None)
@_fail_cleanly
@_writes(files=lambda kw: _pocket_paths(kw["output"], kw["ranking"]))
def pockets_command(
    boundaries, counts, output, method, alpha, no_fdr, permutations, seed, snap_m, ranking, **kw
) -> None:
    """``povmap pockets`` (help text: ``help.command.pockets`` in messages.toml)."""
    from .export.pockets import write_pockets
    from .pockets import find_pockets

    if kw["level"] != "desa":
        raise PovmapError.from_catalogue("cli.pockets_level")
    result = _run(boundaries, counts, kw)
    _echo_report(result, kw["lang"])
    # The column the pipeline classified: --column, or what the table allows when the default
    # cannot be computed (a P3KE by-name export has desil counts and no population).
    column = result.classification.column
    pockets = find_pockets(
        result.layers["desa"],
        column,
        method=method,
        alpha=alpha,
        fdr=not no_fdr,
        permutations=permutations,
        seed=seed,
        snap_m=snap_m,
        lang=kw["lang"],
    )
    _say(pockets.summary(kw["lang"]))
    for path in write_pockets(pockets, output, ranking):
        click.echo(str(path))


def _pocket_paths(output: Path, ranking: Path | None) -> list[Path]:
    """The files ``pockets`` writes; a wrong ``-o`` fails here, before the analysis."""
    from .export.pockets import output_paths

    return list(output_paths(output, ranking).values())


def _demo_inputs() -> list[Path]:
    """The demo's data files, where they lie on disk (none when povmap runs from a zip)."""
    from .demo import DEMO_DIR, DEMO_FILES

    return [Path(str(DEMO_DIR / name)) for name in DEMO_FILES]


@main.command("trend")
@click.argument("boundaries", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("tables", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--labels", required=True)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--target", type=click.FloatRange(0, 100), default=TARGET_PERCENT, show_default=True)
@click.option("--tolerance", type=click.FloatRange(0), default=TOLERANCE_POINTS)
@click.option("--register", default=None, metavar="p3ke|dtsen[,..]")
@click.option("--force-compare", is_flag=True)
@click.option("--title", default=None)
@click.option("--source", default=None)
@click.option("--tiles", default="osm", show_default=True)
@click.option("--cdn", is_flag=True)
@read_options
@_fail_cleanly
@_writes(folders=lambda kw: [kw["output"]], inputs=lambda kw: [kw["boundaries"], *kw["tables"]])
def trend_command(
    boundaries,
    tables,
    labels,
    output,
    target,
    tolerance,
    register,
    force_compare,
    title,
    source,
    tiles,
    cdn,
    **kw,
) -> None:
    """``povmap trend`` (help text: ``help.command.trend`` in messages.toml)."""
    from .export.trend import write_trend
    from .pipeline import check_order
    from .render.choice import basemap_name
    from .trend import trend

    lang = kw["lang"]
    names = [lb.strip() for lb in labels.split(",") if lb.strip()]
    if len(names) != len(tables):
        raise click.BadParameter(
            text("cli.labels_count", lang, labels=len(names), tables=len(tables)),
            param_hint="--labels",
        )
    repeated = sorted({lb for lb in names if names.count(lb) > 1})
    if repeated:
        raise click.BadParameter(
            text("cli.labels_repeated", lang, labels=", ".join(repeated)), param_hint="--labels"
        )
    basemap_name(tiles)  # a wrong --tiles fails before the analysis, not after it
    for table in tables:  # a table given where the boundary file belongs, before any reading
        check_order(boundaries, table)
    options = _options({**kw, "level": "desa"})
    result = trend(
        boundaries,
        dict(zip(names, tables, strict=True)),
        target=target,
        tolerance=tolerance,
        registers=register,
        force_compare=force_compare,
        fuzzy_threshold=options.fuzzy_threshold,
        allow_invalid=options.allow_invalid,
        boundary_options=options.boundary_options(),
        counts_options=options.counts_options(),
    )
    for name, report in result.reports.items():
        _say(f"[{name}]\n{report.summary(lang)}")
    _say(result.summary(lang))
    for path in write_trend(
        result,
        output,
        lang=lang,
        title=title,
        source=source,
        tiles=tiles,
        offline=not cdn,
        command=sys.argv,
    ):
        click.echo(str(path))


@main.command("sasaran")
@click.argument("boundaries", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("register", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--programs", default=None, metavar="pkh,bpnt,pbi,...")
@click.option("--desil-sasaran", type=int, default=1, show_default=True)
@click.option("--desil-layak", type=int, default=4, show_default=True)
@click.option("--recipients", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--daftar-verifikasi", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--title", default=None)
@click.option("--source", default=None)
@click.option("--tiles", default="osm", show_default=True)
@click.option("--cdn", is_flag=True)
@suppress_option
@pockets_option
@read_options
@_fail_cleanly
@_writes(
    files=lambda kw: [kw["daftar_verifikasi"]],
    folders=lambda kw: [kw["output"]],
    inputs=lambda kw: [kw["boundaries"], kw["register"], kw["recipients"]],
)
def sasaran_command(
    boundaries,
    register,
    output,
    programs,
    desil_sasaran,
    desil_layak,
    recipients,
    daftar_verifikasi,
    title,
    source,
    tiles,
    cdn,
    suppress_below,
    pockets,
    **kw,
) -> None:
    """``povmap sasaran`` (help text: ``help.command.sasaran`` in messages.toml)."""
    from .export.sasaran import (
        check_verification,
        suppress_targeting,
        suppression_summary,
        write_targeting,
    )
    from .export.suppress import check_threshold
    from .pipeline import check_order
    from .render.choice import basemap_name
    from .targeting import targeting

    # Every option that can be wrong fails before the analysis, not after it.
    check_order(boundaries, register)
    basemap_name(tiles)
    if suppress_below is not None:
        check_threshold(suppress_below)
    if daftar_verifikasi is not None:
        check_verification(daftar_verifikasi, output)
    options = _options({**kw, "level": "desa"})
    result = targeting(
        register,
        boundaries,
        programs=programs,
        desil_sasaran=desil_sasaran,
        desil_layak=desil_layak,
        recipients=recipients,
        pockets=pockets,
        fuzzy_threshold=options.fuzzy_threshold,
        allow_invalid=options.allow_invalid,
        boundary_options=options.boundary_options(),
        register_options=options.counts_options(),
        lang=kw["lang"],
    )
    _say(result.report.summary(kw["lang"]))
    _say(result.summary(kw["lang"]))
    if suppress_below is not None:
        _say(suppression_summary(suppress_targeting(result, suppress_below)[1], kw["lang"]))
    for path in write_targeting(
        result,
        output,
        lang=kw["lang"],
        title=title,
        source=source,
        tiles=tiles,
        offline=not cdn,
        suppress_below=suppress_below,
        verification=daftar_verifikasi,
        command=sys.argv,
    ):
        click.echo(str(path))


@main.command("demo")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
)
@click.option("--lang", type=click.Choice(LANGS), default=lambda: _LANG.get())
@_fail_cleanly
@_writes(folders=lambda kw: [kw["output"]], inputs=lambda kw: _demo_inputs())
def demo_command(output, lang) -> None:
    """``povmap demo`` (help text: ``help.command.demo`` in messages.toml)."""
    from .demo import run_demo

    for path in run_demo(output, lang=lang):
        click.echo(str(path))


if __name__ == "__main__":  # pragma: no cover
    main()
