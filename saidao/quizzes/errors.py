from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from saidao.core.errors import Conflict, InvalidInput, SaidaoError


class QuestionImportInvalid(InvalidInput):
    """A question file with errors; ``detail["errors"]`` lists each with row, column, message."""

    code = "question_import_invalid"
    default_message = _("题库文件有错误，未导入任何题目。请按提示修改后重新上传。")


class DuplicateQuestion(Conflict):
    code = "duplicate_question"
    default_message = _("题库中已有相同的题目。")


class NoTriesLeft(SaidaoError):
    code = "no_tries_left"
    status = 429
    default_message = _("今天的答题次数已用完，明天再来吧。")


class AttemptClosed(Conflict):
    """The attempt is finished or its time (with the grace period) has run out."""

    code = "attempt_closed"
    default_message = _("本次答题已结束，不能再作答或交卷。")


class TimeUp(Conflict):
    code = "time_up"
    default_message = _("答题时间已到，超过交卷宽限时间，本次交卷未被接受。")


class StaleSequence(Conflict):
    """A save or submit carrying an older sequence number than the server has seen."""

    code = "stale_sequence"
    default_message = _("这是一次过期的提交，已忽略。请以页面上最新的作答为准。")


class NotInPaper(InvalidInput):
    code = "not_in_paper"
    default_message = _("这道题不在您的试卷中。")


class PaperUnavailable(Conflict):
    """The bank does not hold enough questions for the contest's paper rules."""

    code = "paper_unavailable"
    default_message = _("题库中的题目不足以组成试卷，请联系主办方。")
