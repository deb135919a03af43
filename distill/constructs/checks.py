"""cdk-nag rule packs, applied to each stage separately so that one stage's packs never judge another stage."""

from __future__ import annotations

import jsii
from aws_cdk import IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks
from constructs import IConstruct

from distill.constructs.names import COMPLIANCE_PACKS

# Optional packs a stage can ask for; AwsSolutions always runs.
OPTIONAL_PACKS = dict(zip(COMPLIANCE_PACKS, (HIPAASecurityChecks, NIST80053R5Checks), strict=True))


@jsii.implements(IPolicyValidationPlugin)
class StageChecks:
    """A rule pack limited to one construct tree (a Stage); a pack registered plainly validates the whole app."""

    def __init__(self, pack: NagPack, scope: IConstruct) -> None:
        self._pack = pack
        self._scope = scope

    @property
    def name(self) -> str:
        return self._pack.name

    @property
    def rule_ids(self) -> list[str] | None:
        return self._pack.rule_ids

    @property
    def version(self) -> str | None:
        return self._pack.version

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        return self._pack.validate_scope(self._scope)


def checks_for(scope: IConstruct, optional_packs: tuple[str, ...]) -> list[StageChecks]:
    """AwsSolutions plus the optional packs, each limited to ``scope``."""
    packs: list[NagPack] = [AwsSolutionsChecks(scope)]
    packs += [OPTIONAL_PACKS[name](scope) for name in optional_packs]
    return [StageChecks(pack, scope) for pack in packs]
