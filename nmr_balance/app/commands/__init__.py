"""nmr_balance/app/commands"""
