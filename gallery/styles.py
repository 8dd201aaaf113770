"""The art styles the catalogue and the style model know, with a short text for each.

Names are exactly the catalogue's labels; the import rejects any other style.
"""

STYLE_DESCRIPTIONS: dict[str, str] = {
    "Art Nouveau": "Decorative style of about 1890–1910: flowing organic lines, flat stylised plants and "
    "figures, ornament that joins fine and applied art (Mucha, Klimt's early work).",
    "Baroque": "European art of about 1600–1750: strong contrasts of light and dark, movement, drama and "
    "rich detail, made for church and court (Caravaggio, Rubens, Rembrandt, Velázquez).",
    "Cubism": "Early 20th-century breaking of objects into planes seen from several viewpoints at once, "
    "with muted palettes and geometric structure (Picasso, Braque, Gris, Léger).",
    "Expressionism": "Distorted forms and strong, unnatural colour used to express feeling rather than "
    "appearance, mainly German and Austrian, 1905–1930 (Kirchner, Schiele, Munch).",
    "Fauvism": "Short-lived movement around 1905 of wild, pure, non-descriptive colour and bold "
    "brushwork (Matisse, Derain, Vlaminck, Dufy).",
    "Impressionism": "Late 19th-century painting of light and the moment: visible brushstrokes, open "
    "composition, often outdoors (Monet, Renoir, Pissarro, Sisley, Degas).",
    "Naive Art": "Painting by artists without academic training: clear outlines, flat bright colour, "
    "simplified perspective and detail (Henri Rousseau, Pirosmani, Séraphine).",
    "Pointillism": "Neo-impressionist technique of small dots of pure colour that mix in the eye "
    "(Seurat, Signac, Cross, van Rysselberghe).",
    "Post-Impressionism": "Reaction to Impressionism, about 1886–1905: structure, symbolic colour and "
    "expressive form (Cézanne, van Gogh, Gauguin, Toulouse-Lautrec).",
    "Rococo": "Light, ornate, playful 18th-century style: pastel colour, curves, aristocratic leisure "
    "and love scenes (Watteau, Boucher, Fragonard, Tiepolo).",
    "Romanticism": "Late 18th to mid 19th century: emotion, the sublime in nature, heroism and the exotic "
    "(Delacroix, Géricault, Turner, Friedrich, Goya).",
    "Symbolism": "Late 19th-century art of dreams, myth and the spiritual, suggesting ideas through "
    "symbols rather than depicting them (Moreau, Redon, Böcklin, Puvis de Chavannes).",
    "Ukiyo-e": "Japanese woodblock prints and paintings of the Edo period: 'pictures of the floating "
    "world' — actors, beauties, landscapes (Hokusai, Hiroshige, Utamaro, Kuniyoshi).",
}
