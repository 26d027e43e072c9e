"""posebrowser.evaluation"""
