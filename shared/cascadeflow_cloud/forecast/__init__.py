"""Budget forecasting (pure: daily history in, period-total forecast out).

``core.forecast_period`` picks run-rate or ETS by history length and simulates the period
total; ``ets`` is the fast NumPy ETS engine, ``sm_engine`` the statsmodels one (imported only
when configured); ``backtest`` replays history with rolling origins. Importing this package
imports nothing heavy; the modules import NumPy.
"""
