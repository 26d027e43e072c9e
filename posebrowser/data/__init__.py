"""posebrowser.data"""
