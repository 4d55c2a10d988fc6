from django import template

from portal.feeds.reasons import reason_in_language as translate_reason

register = template.Library()


@register.filter
def reason_in_language(reason: str) -> str:
    """A connector's reason in the reader's language, when it is one it knows."""
    return translate_reason(str(reason))
