"""The project's email templates (Appwrite 1.9's project.listEmailTemplates, getEmailTemplate and
updateEmailTemplate): the texts of the emails the engine sends (email_templates.py), per template id
and locale.

A template is read with the project's own fields over the engine's default subject and message; only
customised templates are listed. As in Appwrite, a template can be changed only while custom SMTP is
enabled, and must end up with a subject and a message; a field left out keeps its value and an empty
string clears it. The locale defaults to en.
"""

from __future__ import annotations

from .. import email_templates, mail
from ..errors import invalid_argument
from ..listing import limit_offset_page
from ..registry import Call, handles
from .smtp import check_email


def template_id(call: Call) -> str:
    value = call.params["templateId"]
    if value not in email_templates.TEMPLATE_IDS:
        raise invalid_argument(
            f"Invalid `templateId` param: Value must be one of ({', '.join(email_templates.TEMPLATE_IDS)})"
        )
    return value


def locale(call: Call) -> str:
    value = call.params.get("locale") or email_templates.DEFAULT_LOCALE
    if value not in email_templates.LOCALES:
        raise invalid_argument(
            "Invalid `locale` param: Value must be one of Appwrite's locale codes, such as en, de, fr or pt-br"
        )
    return value


def template_model(template: str, code: str, fields: dict) -> dict:
    subject, message = email_templates.DEFAULTS[template]
    return {
        "templateId": template,
        "locale": code,
        "message": fields.get("message") or message,
        "senderName": fields.get("senderName", ""),
        "senderEmail": fields.get("senderEmail", ""),
        "replyToEmail": fields.get("replyToEmail", ""),
        "replyToName": fields.get("replyToName", ""),
        "subject": fields.get("subject") or subject,
    }


@handles("project.listEmailTemplates")
def list_email_templates(call: Call) -> dict:
    models = [template_model(*found) for found in email_templates.all_stored(call.project.connection)]
    total, page = limit_offset_page(models, call.params.get("queries"), count=call.params.get("total", True))
    return {"total": total, "templates": page}


@handles("project.getEmailTemplate")
def get_email_template(call: Call) -> dict:
    template, code = template_id(call), locale(call)
    return template_model(template, code, email_templates.stored(call.project.connection, template, code))


@handles("project.updateEmailTemplate")
def update_email_template(call: Call) -> dict:
    template, code = template_id(call), locale(call)
    connection = call.project.connection
    if not mail.read(call.project, connection)["enabled"]:
        raise invalid_argument("SMTP must be enabled on the project to configure custom email templates.")
    for name in ("senderEmail", "replyToEmail"):
        if call.params.get(name):
            check_email(call.params[name], name)
    fields = email_templates.stored(connection, template, code)
    fields.update({name: call.params[name] for name in email_templates.FIELDS if call.params.get(name) is not None})
    for name in ("subject", "message"):
        if not fields.get(name):
            raise invalid_argument(f'Param "{name}" is not optional.')
    email_templates.save(connection, template, code, fields)
    return template_model(template, code, fields)
