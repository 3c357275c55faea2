"""A site's variables: its environment when it builds (code_variables.py, shared with functions)."""

from __future__ import annotations

from ..functions import code_variables
from ..functions.code_variables import SITE_VARIABLES
from ..registry import Call, handles


@handles("sites.listVariables")
def list_variables(call: Call) -> dict:
    return code_variables.list_variables(call, SITE_VARIABLES)


@handles("sites.createVariable")
def create_variable(call: Call) -> dict:
    return code_variables.create_variable(call, SITE_VARIABLES)


@handles("sites.getVariable")
def get_variable(call: Call) -> dict:
    return code_variables.get_variable(call, SITE_VARIABLES)


@handles("sites.updateVariable")
def update_variable(call: Call) -> dict:
    return code_variables.update_variable(call, SITE_VARIABLES)


@handles("sites.deleteVariable")
def delete_variable(call: Call) -> None:
    code_variables.delete_variable(call, SITE_VARIABLES)
