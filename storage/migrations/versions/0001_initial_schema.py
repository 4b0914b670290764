"""Initial schema, with append-only triggers on signed decisions and the audit trail.

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 22:21:11.194843
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sa.Enum('admin', 'coordinator', 'specialist', 'referring_clinician', name='role', native_enum=False, length=32), nullable=False),
    sa.Column('specialty', sa.Enum('neurosurgery', 'orthopedic_spine', 'pain_medicine', 'physical_therapy', 'primary_care', 'radiology', 'other', name='specialty', native_enum=False, length=32), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.Enum('viewed', 'created', 'updated', 'signed', 'amended', 'transitioned', 'added', 'removed', 'reordered', 'signed_in', name='auditaction', native_enum=False, length=32), nullable=False),
    sa.Column('entity', sa.Enum('user', 'conference', 'case', 'agenda_item', 'decision', 'request', 'imaging', name='entity', native_enum=False, length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_audit_event_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_ref', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('age', sa.Integer(), nullable=False),
    sa.Column('sex', sa.Enum('female', 'male', 'other', 'unknown', name='sex', native_enum=False, length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('urgency', sa.Enum('routine', 'soon', 'urgent', name='urgency', native_enum=False, length=32), nullable=False),
    sa.Column('eases', sa.Text(), nullable=False),
    sa.Column('worsens', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_patient_ref'), ['patient_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_requested_by_id'), ['requested_by_id'], unique=False)

    op.create_table('conference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('starts_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('chair_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'live', 'closed', name='conferencestatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('current_item_id', sa.Integer(), nullable=True),
    sa.Column('current_started_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('quorum_rule', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['chair_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_starts_at'), ['starts_at'], unique=False)

    op.create_table('agenda_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('planned_minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'discussing', 'decided', 'deferred', name='itemstatus', native_enum=False, length=32), nullable=False),
    sa.Column('started_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conference_id', 'case_id')
    )
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_item_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agenda_item_conference_id'), ['conference_id'], unique=False)

    op.create_table('care_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('physical_therapy', 'medication', 'injection', 'surgery', 'other', name='treatmentkind', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('response', sa.Enum('improved', 'unchanged', 'worse', 'unknown', name='treatmentresponse', native_enum=False, length=32), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('care_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_entry_case_id'), ['case_id'], unique=False)

    op.create_table('conference_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('conference_role', sa.Enum('chair', 'member', 'guest', name='conferencerole', native_enum=False, length=32), nullable=False),
    sa.Column('added_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conference_id', 'user_id')
    )
    with op.batch_alter_table('conference_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_member_conference_id'), ['conference_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_member_user_id'), ['user_id'], unique=False)

    op.create_table('imaging_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('modality', sa.Enum('MR', 'CT', 'XR', 'CR', 'DX', 'NM', 'PT', 'US', 'EMG', 'other', name='modality', native_enum=False, length=32), nullable=False),
    sa.Column('study_date', sa.Date(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('study_instance_uid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('imaging_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imaging_link_case_id'), ['case_id'], unique=False)

    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_item.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agenda_item_id', 'user_id')
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_agenda_item_id'), ['agenda_item_id'], unique=False)

    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('continue_conservative', 'physical_therapy', 'pain_management', 'further_imaging', 'surgical_consult', 'surgery_recommended', 'co_managed_surgery', 'post_operative_rehab', 'other', name='outcome', native_enum=False, length=32), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('follow_up_weeks', sa.Integer(), nullable=False),
    sa.Column('responsible_clinician_id', sa.Integer(), nullable=True),
    sa.Column('present_user_ids', sa.JSON(), nullable=True),
    sa.Column('dissent', sa.JSON(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'signed', name='decisionstatus', native_enum=False, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_item.id'], ),
    sa.ForeignKeyConstraint(['responsible_clinician_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agenda_item_id')
    )
    op.create_table('decision_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('continue_conservative', 'physical_therapy', 'pain_management', 'further_imaging', 'surgical_consult', 'surgery_recommended', 'co_managed_surgery', 'post_operative_rehab', 'other', name='outcome', native_enum=False, length=32), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('follow_up_weeks', sa.Integer(), nullable=False),
    sa.Column('responsible_clinician_id', sa.Integer(), nullable=True),
    sa.Column('present_user_ids', sa.JSON(), nullable=True),
    sa.Column('dissent', sa.JSON(), nullable=True),
    sa.Column('amendment_reason', sa.Text(), nullable=True),
    sa.Column('signed_by_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_item.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['responsible_clinician_id'], ['user.id'], ),
    sa.ForeignKeyConstraint(['signed_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agenda_item_id', 'revision')
    )
    with op.batch_alter_table('decision_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_revision_agenda_item_id'), ['agenda_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_revision_case_id'), ['case_id'], unique=False)

    op.create_table('second_opinion_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_specialties', sa.JSON(), nullable=True),
    sa.Column('status', sa.Enum('submitted', 'accepted', 'declined', 'scheduled', 'discussed', 'answered', name='requeststatus', native_enum=False, length=32), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('agenda_item_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('declined_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('scheduled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('discussed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_item.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], ),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('second_opinion_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_second_opinion_request_requested_by_id'), ['requested_by_id'], unique=False)


    _append_only_triggers()

def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table('second_opinion_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_second_opinion_request_requested_by_id'))

    op.drop_table('second_opinion_request')
    with op.batch_alter_table('decision_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_revision_case_id'))
        batch_op.drop_index(batch_op.f('ix_decision_revision_agenda_item_id'))

    op.drop_table('decision_revision')
    op.drop_table('decision')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_agenda_item_id'))

    op.drop_table('attendance')
    with op.batch_alter_table('imaging_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imaging_link_case_id'))

    op.drop_table('imaging_link')
    with op.batch_alter_table('conference_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conference_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_conference_member_conference_id'))

    op.drop_table('conference_member')
    with op.batch_alter_table('care_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_entry_case_id'))

    op.drop_table('care_entry')
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_item_conference_id'))
        batch_op.drop_index(batch_op.f('ix_agenda_item_case_id'))

    op.drop_table('agenda_item')
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conference_starts_at'))

    op.drop_table('conference')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_case_patient_ref'))

    op.drop_table('case')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_entity')
        batch_op.drop_index(batch_op.f('ix_audit_event_case_id'))

    op.drop_table('audit_event')
    op.drop_table('user')


APPEND_ONLY = ("decision_revision", "audit_event")


def _append_only_triggers() -> None:
    """Signed decisions and audit events are never changed, even by hand-written SQL."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION casebridge_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION casebridge_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS casebridge_append_only()")
        return
    for table in APPEND_ONLY:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
