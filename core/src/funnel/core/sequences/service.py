"""Follow-up sequence operations: list, read, create, replace, delete.

A sequence is written whole (its steps renumbered 1..n in the order given), because a step's
meaning is its place in the sequence. One sequence per trigger is active: the scheduler uses the
active ``no_reply`` sequence for leads who go quiet, so activating one deactivates the others
of its trigger (recorded in the audit entry). Deleting a sequence is safe for conversations
mid-sequence: a scheduled nudge whose step no longer exists is skipped when it comes due.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.audit.writer import Actor, record
from funnel.core.db.tenancy import TenantRepository, current_organisation_id
from funnel.core.db.unique import flush_unique
from funnel.core.errors import NotFound, ValidationFailed
from funnel.core.models import FollowupSequence, FollowupStep, Template
from funnel.core.sequences.schemas import SequenceRead, SequenceWrite, StepRead


class SequenceRepository(TenantRepository[FollowupSequence]):
    model = FollowupSequence


def _repository(session: AsyncSession) -> SequenceRepository:
    return SequenceRepository(session, current_organisation_id(session))


async def _steps(
    session: AsyncSession, organisation_id: uuid.UUID, sequence_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[StepRead]]:
    rows = (
        await session.execute(
            sa.select(FollowupStep)
            .where(
                FollowupStep.organisation_id == organisation_id,
                FollowupStep.sequence_id.in_(sequence_ids),
            )
            .order_by(FollowupStep.sequence_id, FollowupStep.position)
        )
    ).scalars()
    steps: dict[uuid.UUID, list[StepRead]] = {i: [] for i in sequence_ids}
    for step in rows:
        steps[step.sequence_id].append(StepRead.model_validate(step))
    return steps


def _read(sequence: FollowupSequence, steps: list[StepRead]) -> SequenceRead:
    return SequenceRead(
        id=sequence.id,
        name=sequence.name,
        trigger=sequence.trigger,
        is_active=sequence.is_active,
        steps=steps,
        created_at=sequence.created_at,
        updated_at=sequence.updated_at,
    )


async def _sequence(session: AsyncSession, sequence_id: uuid.UUID) -> FollowupSequence:
    sequence = await _repository(session).get_by_id(sequence_id)
    if sequence is None:
        raise NotFound("follow-up sequence not found")
    return sequence


async def list_sequences(session: AsyncSession) -> list[SequenceRead]:
    repository = _repository(session)
    sequences = list(
        await repository.get_all(repository.get_base_statement().order_by(FollowupSequence.name))
    )
    steps = await _steps(session, repository.organisation_id, [s.id for s in sequences])
    return [_read(s, steps[s.id]) for s in sequences]


async def get_sequence(session: AsyncSession, sequence_id: uuid.UUID) -> SequenceRead:
    sequence = await _sequence(session, sequence_id)
    steps = await _steps(session, sequence.organisation_id, [sequence.id])
    return _read(sequence, steps[sequence.id])


async def _check_templates(
    session: AsyncSession, organisation_id: uuid.UUID, body: SequenceWrite
) -> None:
    wanted = {s.template_id for s in body.steps if s.template_id is not None}
    if not wanted:
        return
    found = set(
        (
            await session.execute(
                sa.select(Template.id).where(
                    Template.organisation_id == organisation_id, Template.id.in_(wanted)
                )
            )
        ).scalars()
    )
    for index, step in enumerate(body.steps):
        if step.template_id is not None and step.template_id not in found:
            raise ValidationFailed(
                "no such template in this organisation",
                details={"field": f"steps[{index}].template_id"},
            )


async def _write(
    session: AsyncSession, sequence: FollowupSequence, body: SequenceWrite
) -> list[str]:
    """Apply ``body`` to ``sequence`` (already added): fields, steps, the one-active rule.
    Returns the names of sequences it deactivated."""
    sequence.name = body.name
    sequence.trigger = body.trigger
    sequence.is_active = body.is_active
    await flush_unique(session, "a follow-up sequence with this name exists")
    await session.execute(
        sa.delete(FollowupStep).where(
            FollowupStep.organisation_id == sequence.organisation_id,
            FollowupStep.sequence_id == sequence.id,
        )
    )
    session.add_all(
        FollowupStep(
            organisation_id=sequence.organisation_id,
            sequence_id=sequence.id,
            position=position,
            delay_minutes=step.delay_minutes,
            message_hint=step.message_hint,
            template_id=step.template_id,
        )
        for position, step in enumerate(body.steps, start=1)
    )
    deactivated: list[str] = []
    if body.is_active:
        deactivated = list(
            (
                await session.execute(
                    sa.update(FollowupSequence)
                    .where(
                        FollowupSequence.organisation_id == sequence.organisation_id,
                        FollowupSequence.trigger == body.trigger,
                        FollowupSequence.id != sequence.id,
                        FollowupSequence.is_active.is_(True),
                    )
                    .values(is_active=False)
                    .returning(FollowupSequence.name)
                )
            ).scalars()
        )
    await session.flush()
    return deactivated


async def create_sequence(session: AsyncSession, actor: Actor, body: SequenceWrite) -> SequenceRead:
    organisation_id = current_organisation_id(session)
    await _check_templates(session, organisation_id, body)
    sequence = FollowupSequence(organisation_id=organisation_id, name=body.name)
    session.add(sequence)
    deactivated = await _write(session, sequence, body)
    await session.refresh(sequence)
    await record(
        session,
        actor,
        "followup_sequence.created",
        entity_type="followup_sequence",
        entity_id=sequence.id,
        changes={"name": sequence.name, "steps": len(body.steps), "deactivated": deactivated},
    )
    return await get_sequence(session, sequence.id)


async def replace_sequence(
    session: AsyncSession, actor: Actor, sequence_id: uuid.UUID, body: SequenceWrite
) -> SequenceRead:
    sequence = await _sequence(session, sequence_id)
    await _check_templates(session, sequence.organisation_id, body)
    deactivated = await _write(session, sequence, body)
    await session.refresh(sequence)
    await record(
        session,
        actor,
        "followup_sequence.updated",
        entity_type="followup_sequence",
        entity_id=sequence.id,
        changes={"name": sequence.name, "steps": len(body.steps), "deactivated": deactivated},
    )
    return await get_sequence(session, sequence.id)


async def delete_sequence(session: AsyncSession, actor: Actor, sequence_id: uuid.UUID) -> None:
    sequence = await _sequence(session, sequence_id)
    await session.execute(
        sa.delete(FollowupStep).where(
            FollowupStep.organisation_id == sequence.organisation_id,
            FollowupStep.sequence_id == sequence.id,
        )
    )
    await session.execute(
        sa.delete(FollowupSequence).where(
            FollowupSequence.organisation_id == sequence.organisation_id,
            FollowupSequence.id == sequence.id,
        )
    )
    await record(
        session,
        actor,
        "followup_sequence.deleted",
        entity_type="followup_sequence",
        entity_id=sequence.id,
        changes={"name": sequence.name},
    )
