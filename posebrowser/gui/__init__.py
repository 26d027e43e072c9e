"""posebrowser.gui"""
