"""``funnel knowledge``: ingest, list, delete and search an organisation's knowledge base.

Uses the configured database (``FUNNEL_DATABASE__URL``) and embedder (Gemini with a key, the
offline hashing embedder without). Database code is imported inside the commands, so the
root CLI still starts where the ``db`` extra is not installed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from funnel.core.llm.base import Embedder
    from funnel.core.settings import Settings

knowledge_app = typer.Typer(
    help="The knowledge base: ingest, list, delete and search an organisation's documents.",
    no_args_is_help=True,
)

_T = TypeVar("_T")

OrgOption = Annotated[str, typer.Option("--org", help="The organisation's slug.")]


@dataclass
class _Context:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    embedder: Embedder
    organisation_id: uuid.UUID


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    return asyncio.run(coroutine)


@asynccontextmanager
async def _context(slug: str) -> AsyncIterator[_Context]:
    try:
        import sqlalchemy as sa

        from funnel.core.db.engine import create_engine, session_factory
        from funnel.core.llm.factory import build_embedder
        from funnel.core.models import Organisation
    except ImportError as exc:  # pragma: no cover - only without the [db] extra
        typer.echo(f"database support is not installed ({exc.name}): funnel-core[db]", err=True)
        raise typer.Exit(2) from exc
    from funnel.core.settings import get_settings

    settings = get_settings()
    if not settings.database.url.get_secret_value():
        typer.echo("No database configured: set FUNNEL_DATABASE__URL.", err=True)
        raise typer.Exit(2)
    engine = create_engine(settings.database, application_name="funnel-knowledge")
    embedder = build_embedder(settings)
    try:
        sessions = session_factory(engine)
        # Resolving the slug is system work (no tenant yet); everything after is scoped.
        async with sessions() as session:
            organisation_id = await session.scalar(
                sa.select(Organisation.id).where(Organisation.slug == slug)
            )
        if organisation_id is None:
            typer.echo(f"No organisation with slug {slug!r}.", err=True)
            raise typer.Exit(1)
        yield _Context(settings, sessions, embedder, organisation_id)
    finally:
        close = getattr(embedder, "aclose", None)
        if close is not None:
            await close()
        await engine.dispose()


@knowledge_app.command("ingest")
def ingest(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="PDF, .md or .txt")
    ],
    org: OrgOption,
    title: Annotated[str | None, typer.Option(help="Title (default: the file name).")] = None,
) -> None:
    """Ingest FILE into the organisation's knowledge base, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from funnel.core.knowledge.ingest import ingest_document
    from funnel.core.knowledge.schemas import KnowledgeInputError

    async def main() -> int:
        async with _context(org) as ctx:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            ) as bar:
                task = bar.add_task(f"Embedding {file.name}", total=None)

                def on_progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                try:
                    report = await ingest_document(
                        ctx.sessions,
                        ctx.embedder,
                        ctx.organisation_id,
                        file.name,
                        file.read_bytes(),
                        title=title,
                        batch_size=ctx.settings.embeddings.batch_size,
                        progress=on_progress,
                    )
                except KnowledgeInputError as exc:
                    typer.echo(f"Refused: {exc}", err=True)
                    return 2
        if report.duplicate:
            typer.echo(
                f"Already ingested as {report.document_id} ({report.title!r}, "
                f"{report.status.value}, {report.chunk_count} chunks): nothing re-embedded."
            )
            return 0
        if not report.ok:
            typer.echo(f"Failed: {report.title!r} ({report.document_id}): {report.error}", err=True)
            return 1
        typer.echo(
            f"Ready: {report.title!r} ({report.document_id}), {report.chunk_count} chunks "
            f"embedded with {report.embedding_model} in {report.seconds:.1f} s."
        )
        return 0

    raise typer.Exit(_run(main()))


@knowledge_app.command("list")
def list_(org: OrgOption) -> None:
    """List the organisation's documents with their status, newest first."""
    from funnel.core.knowledge.ingest import list_documents, scoped_session

    async def main() -> None:
        async with (
            _context(org) as ctx,
            scoped_session(ctx.sessions, ctx.organisation_id) as session,
        ):
            documents = await list_documents(session, ctx.organisation_id)
        if not documents:
            typer.echo("No documents.")
        # One line per document, whole ids first: they are what `delete` takes.
        for d in documents:
            error = f"  error: {d.error}" if d.error else ""
            typer.echo(
                f"{d.id}  {d.status.value:<10} {d.progress:>3}%  {d.chunk_count:>5} chunks  "
                f"{d.doc_type.value:<8}  {d.created_at:%Y-%m-%d %H:%M}  {d.title}{error}"
            )

    _run(main())


@knowledge_app.command("delete")
def delete(
    doc_id: Annotated[uuid.UUID, typer.Argument(help="The document's id (see `list`).")],
    org: OrgOption,
) -> None:
    """Delete a document with its chunks and vectors."""
    from funnel.core.knowledge.ingest import delete_document, scoped_session

    async def main() -> bool:
        async with (
            _context(org) as ctx,
            scoped_session(ctx.sessions, ctx.organisation_id) as session,
        ):
            deleted = await delete_document(session, ctx.organisation_id, doc_id)
            await session.commit()
            return deleted

    if not _run(main()):
        typer.echo(f"No document {doc_id} in {org}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Deleted {doc_id} and its chunks.")


@knowledge_app.command("search")
def search_(
    query: Annotated[str, typer.Argument(help="A question, as a customer would ask it.")],
    org: OrgOption,
    top_k: Annotated[int, typer.Option(min=1, max=50, help="Chunks to show.")] = 5,
) -> None:
    """Hybrid search as the pipeline runs it: ranked chunks with their scores."""
    from funnel.core.knowledge.ingest import scoped_session
    from funnel.core.knowledge.search import search

    async def main() -> None:
        async with (
            _context(org) as ctx,
            scoped_session(ctx.sessions, ctx.organisation_id) as session,
        ):
            hits = await search(session, ctx.organisation_id, query, ctx.embedder, top_k)
        for rank, hit in enumerate(hits, start=1):
            page = f" (p. {hit.page})" if hit.page else ""
            snippet = " ".join(hit.content.split())
            typer.echo(
                f"{rank}. score {hit.score:.3f}  cosine {hit.cosine:.3f}  "
                f"vector #{hit.vector_rank or '-'}  keyword #{hit.keyword_rank or '-'}  "
                f"{hit.title}{page}"
            )
            typer.echo(f"   {snippet[:200]}{'…' if len(snippet) > 200 else ''}")
        # The threshold the bot uses with this embedder, so the verdict is the bot's.
        threshold = ctx.settings.grounding_threshold
        grounded = bool(hits) and hits[0].score >= threshold
        typer.echo(f"{'grounded' if grounded else 'no grounding'} (threshold {threshold})")

    _run(main())
