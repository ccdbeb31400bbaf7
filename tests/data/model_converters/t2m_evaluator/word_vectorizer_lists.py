# A stand-in for the user's copy of the official word_vectorizer.py in the test: the same names
# (POS_enumerator, <class>_list tuples, VIP_dict), made-up short word lists. The converter reads
# such a file with ast (never imports or runs it).
POS_enumerator = {
    'VERB': 0, 'NOUN': 1, 'DET': 2, 'ADP': 3, 'NUM': 4, 'AUX': 5, 'PRON': 6, 'ADJ': 7, 'ADV': 8,
    'Loc_VIP': 9, 'Body_VIP': 10, 'Obj_VIP': 11, 'Act_VIP': 12, 'Desc_VIP': 13, 'OTHER': 14,
}

Loc_list = ('left', 'forward')
Body_list = ('arm', )
Obj_List = ('chair', )
Act_list = ('walk', 'kick', 'walk')
Desc_list = ('slowly', )

VIP_dict = {
    'Loc_VIP': Loc_list,
    'Body_VIP': Body_list,
    'Obj_VIP': Obj_List,
    'Act_VIP': Act_list,
    'Desc_VIP': Desc_list,
}
