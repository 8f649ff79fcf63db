"""Ceiling views: what Django itself costs, with and without one INSERT."""

from django.db import connection, transaction
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt


def floor(request):
    """The framework floor: a tiny template, no database."""
    return render(request, "bench/floor.html", {"name": "Östhammar"})


@csrf_exempt
def insert(request):
    """One INSERT in a transaction: the floor of any write."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_ceiling (created) VALUES (CURRENT_DATE)")
    return render(request, "bench/floor.html", {"name": "insert"})
