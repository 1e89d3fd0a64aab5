"""nmr_balance/app"""
