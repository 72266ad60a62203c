"""Typed models for every API entity: msgspec Structs decoded straight from bytes."""

from inro_async.models.automation import (
    Action,
    Campaign,
    CampaignRule,
    CampaignSendResult,
    CampaignTestResult,
    Counts,
    Performance,
    ResendResult,
    Scenario,
    ScenarioMetrics,
    StepPerformance,
    Trigger,
    TriggerResult,
)
from inro_async.models.batch_tasks import BatchTask, BatchTaskError
from inro_async.models.contact_properties import ContactProperty
from inro_async.models.contacts import (
    BulkUpdateResult,
    Contact,
    ContactIdentifier,
    ContactMessage,
    ContactUpdate,
    FolderRef,
    LastComment,
    LastMention,
    LastMessage,
)
from inro_async.models.discovery import Template, TypeInfo
from inro_async.models.executions import Execution, ExecutionHealth, ExecutionStep
from inro_async.models.filters import ContactFilter
from inro_async.models.folders import Folder, MembershipResult
from inro_async.models.media import Media, MediaFile
from inro_async.models.messaging import SendResult, SkippedRecipient
from inro_async.models.organization import Organization
from inro_async.models.segments import Segment

__all__ = [
    "Action",
    "BatchTask",
    "BatchTaskError",
    "BulkUpdateResult",
    "Campaign",
    "CampaignRule",
    "CampaignSendResult",
    "CampaignTestResult",
    "Contact",
    "ContactFilter",
    "ContactIdentifier",
    "ContactMessage",
    "ContactProperty",
    "ContactUpdate",
    "Counts",
    "Execution",
    "ExecutionHealth",
    "ExecutionStep",
    "Folder",
    "FolderRef",
    "LastComment",
    "LastMention",
    "LastMessage",
    "Media",
    "MediaFile",
    "MembershipResult",
    "Organization",
    "Performance",
    "ResendResult",
    "Scenario",
    "ScenarioMetrics",
    "Segment",
    "SendResult",
    "SkippedRecipient",
    "StepPerformance",
    "Template",
    "Trigger",
    "TriggerResult",
    "TypeInfo",
]
