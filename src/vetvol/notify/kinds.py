"""Every kind of notification: its title and text (Chinese, translated to English through the catalogue)
and the channels it goes by besides the inbox. Texts are rendered once, in the recipient's language, when
the notification is written.

`emergency` kinds ignore quiet hours and channel preferences; `escalate` sends the SMS only if the push
was not seen in time (at once when the person has no device to push to).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vetvol.notify.models import Channel


@dataclass(frozen=True)
class Kind:
    title: Promise
    body: Promise
    channels: tuple[str, ...]
    emergency: bool = False
    escalate: bool = False

    def render(self, language: str, context: dict[str, Any]) -> tuple[str, str]:
        with translation.override(language):
            return str(self.title) % context, str(self.body) % context


PUSH, SMS, EMAIL = Channel.PUSH.value, Channel.SMS.value, Channel.EMAIL.value

KINDS: dict[str, Kind] = {
    "dispatch.invitation": Kind(
        _("应急任务邀请：%(incident)s"),
        _("%(incident)s 需要“%(role)s”，距您约 %(km)s 公里。请尽快打开“应急任务”回复是否前往。"),
        (PUSH, SMS),
        emergency=True,
        escalate=True,
    ),
    "dispatch.team_invitation": Kind(
        _("队伍应急任务：%(incident)s"),
        _("%(team)s 被邀请参加 %(incident)s（%(role)s），请队长尽快选派队员。"),
        (PUSH, SMS),
        emergency=True,
        escalate=True,
    ),
    "activities.signup.decided": Kind(
        _("报名审核结果：%(activity)s"),
        _("您报名的“%(activity)s”%(outcome)s。"),
        (PUSH, EMAIL),
    ),
    "activities.signup.promoted": Kind(
        _("候补转为正式：%(activity)s"),
        _("有名额空出，您已从候补名单转为正式参加“%(activity)s”（%(starts)s）。"),
        (PUSH, SMS),
    ),
    "activities.shift.reminder": Kind(
        _("活动提醒：%(activity)s"),
        _("您报名的“%(activity)s”将于 %(starts)s 在 %(place)s 开始，请准时签到。"),
        (PUSH, SMS),
    ),
    "activities.star.decided": Kind(
        _("星级评定结果"),
        _("您的%(stars)s星级志愿者申请%(outcome)s。"),
        (PUSH, EMAIL),
    ),
    "activities.certificate.decided": Kind(
        _("服务证明：%(number)s"),
        _("您的志愿服务证明 %(number)s %(outcome)s。"),
        (PUSH, EMAIL),
    ),
    "care.task.assigned": Kind(
        _("关爱任务：%(task)s"),
        _("您有一项关爱任务“%(task)s”（%(recipient)s），请于 %(due)s 前完成。"),
        (PUSH, EMAIL),
    ),
    "care.task.due": Kind(
        _("关爱任务即将到期：%(task)s"),
        _("关爱任务“%(task)s”（%(recipient)s）将于 %(due)s 到期，请及时上门或联系。"),
        (PUSH, SMS),
    ),
    "care.campaign.visits": Kind(
        _("走访任务：%(campaign)s"),
        _("“%(campaign)s”为您安排了 %(count)s 户走访，请在“关爱走访”中查看并登记。"),
        (PUSH, SMS),
    ),
    "care.help.invitation": Kind(
        _("帮扶邀请：%(category)s"),
        _("附近有一位服务对象需要帮助（%(category)s），请在“关爱走访”中查看并回复是否接受。"),
        (PUSH, SMS),
    ),
    "fund.disbursement.requested": Kind(
        _("拨付申请待审批：%(title)s"),
        _("%(number)s“%(title)s”申请拨付 %(amount)s 元，请在“专项基金”中审批。"),
        (PUSH, EMAIL),
    ),
    "fund.disbursement.decided": Kind(
        _("拨付申请审批结果：%(title)s"),
        _("您提交的 %(number)s“%(title)s”（%(amount)s 元）%(outcome)s。"),
        (PUSH, EMAIL),
    ),
    "registry.import.finished": Kind(
        _("导入完成：%(name)s"),
        _("“%(name)s”的导入已结束（%(status)s），写入 %(written)s 行。"),
        (PUSH, EMAIL),
    ),
}
