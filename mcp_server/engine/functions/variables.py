"""A function's variables: its environment in every execution (code_variables.py, which sites share)."""

from __future__ import annotations

import sqlite3

from ..registry import Call, handles
from . import code_variables
from .code_variables import FUNCTION_VARIABLES


def variable_rows(connection: sqlite3.Connection, function_id: str) -> list[sqlite3.Row]:
    return code_variables.rows(connection, FUNCTION_VARIABLES, function_id)


def variable_model(row: sqlite3.Row) -> dict:
    return code_variables.model(row, FUNCTION_VARIABLES)


@handles("functions.listVariables")
def list_variables(call: Call) -> dict:
    return code_variables.list_variables(call, FUNCTION_VARIABLES)


@handles("functions.createVariable")
def create_variable(call: Call) -> dict:
    return code_variables.create_variable(call, FUNCTION_VARIABLES)


@handles("functions.getVariable")
def get_variable(call: Call) -> dict:
    return code_variables.get_variable(call, FUNCTION_VARIABLES)


@handles("functions.updateVariable")
def update_variable(call: Call) -> dict:
    return code_variables.update_variable(call, FUNCTION_VARIABLES)


@handles("functions.deleteVariable")
def delete_variable(call: Call) -> None:
    code_variables.delete_variable(call, FUNCTION_VARIABLES)
