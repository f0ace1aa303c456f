"""docs/docsite/rst/*.rst from docs/*.md: the collection's guides as antsibull-docs wants extra docs (RST, each with a
label ansible_collections.m365.mail_oauth.docsite.<name>, listed in docs/docsite/extra-docs.yml).

docs/*.md stay the source (error messages, the README, make bench and make soak point at or write them); the RST is
generated from them and committed, because antsibull-docs reads it from the collection as built. tests/e2e/test_docsite.py
fails when the two drift apart and says how to regenerate:

    .venv/bin/python tests/tools/docsite.py

The converter knows the Markdown these docs use: headings, paragraphs, lists, pipe tables, fenced code, inline code,
emphasis, links, HTML comments.
"""

import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(REPO, 'docs')
RST_DIR = os.path.join(DOCS, 'docsite', 'rst')
LABEL = 'ansible_collections.m365.mail_oauth.docsite.%s'
# The guides, in the order of extra-docs.yml; names are the Markdown files' (docs/<name>.md).
GUIDES = ('procedure', 'permissions', 'troubleshooting', 'awx', 'performance', 'reliability')
HEADING = {1: '=', 2: '-', 3: '~', 4: '^'}
SOURCE_NOTE = '.. Generated from docs/%s.md by tests/tools/docsite.py: edit the Markdown, then run the script.\n\n'

_CODE = re.compile(r'(`+)([^`]+?)\1')  # may span the lines of a paragraph
_LINK = re.compile(r'\[([^\]]+)\]\(([^)\s]+)\)')


def _link(text, target):
    if re.match(r'^https?://', target):
        return '`%s <%s>`__' % (text, target)
    name, _sep, anchor = target.partition('#')
    if name.endswith('.md') and os.path.splitext(os.path.basename(name))[0] in GUIDES and '/' not in name:
        return ':ref:`%s <%s>`' % (text, LABEL % os.path.splitext(name)[0])
    if not name and anchor:
        return text  # a section of the same page: the text alone
    return '%s (``%s``)' % (text, os.path.normpath(os.path.join('docs', name)))


def _escape(text):
    # Characters RST reads as markup where Markdown does not: a trailing underscore (a reference), |x| (a substitution).
    text = re.sub(r'(?<=\w)_(?=\W|$)', r'\\_', text)
    return text.replace('|', '\\|')


def inline(text):
    """Inline Markdown as RST: code spans kept whole, links, then the rest escaped."""
    out, pos = [], 0
    for match in _CODE.finditer(text):
        _append(out, _inline_text(text[pos:match.start()]))
        code = match.group(2).strip()
        _append(out, '``%s``' % code if code else '', markup=True)
        pos = match.end()
    _append(out, _inline_text(text[pos:]))
    return ''.join(out)


def _append(out, piece, markup=False):
    # RST inline markup must stand apart from words: an escaped space joins it to a letter or digit beside it.
    if out and piece:
        before, after = out[-1][-1:], piece[:1]
        if (markup and before.isalnum()) or (out[-1].endswith('`') and after.isalnum()):
            out.append('\\ ')
    out.append(piece)


def _inline_text(text):
    out, pos = [], 0
    for match in _LINK.finditer(text):
        _append(out, _escape(text[pos:match.start()]))
        _append(out, _link(match.group(1).replace('`', ''), match.group(2)), markup=True)
        pos = match.end()
    _append(out, _escape(text[pos:]))
    return ''.join(out)


def _table(rows):
    cells = [[inline(cell.strip()) for cell in row.strip().strip('|').split('|')] for row in rows]
    header, body = cells[0], cells[2:]
    lines = ['.. list-table::', '   :header-rows: 1', '']
    for row in [header] + body:
        row = row + [''] * (len(header) - len(row))
        lines.append('   * - %s' % (row[0] or '\\'))
        lines.extend('     - %s' % (cell or '\\') for cell in row[1:len(header)])
    return lines + ['']


def _split_pipes(line):
    # A pipe inside a code span or escaped (\|) is part of the cell.
    return re.sub(r'`[^`]*`', lambda m: m.group(0).replace('|', '\0'), line.replace('\\|', '\0'))


def convert(name, markdown):
    """The RST page for docs/<name>.md."""
    lines = markdown.splitlines()
    out = [SOURCE_NOTE % name + '.. _%s:' % (LABEL % name), '']
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r'^(\s*)```(\w*)\s*$', line)
        heading = re.match(r'^(#{1,4})\s+(.*)$', line)
        if fence:
            indent, language = fence.group(1), fence.group(2) or 'text'
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith('```'):
                block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            out += [indent + '.. code-block:: %s' % language, '']
            out += [(indent + '   ' + text) if text.strip() else '' for text in block] + ['']
            i += 1
        elif heading:
            title = inline(heading.group(2).strip())
            out += [title, HEADING[len(heading.group(1))] * max(len(title), 4), '']
            i += 1
        elif line.startswith('<!--'):
            while i < len(lines) and '-->' not in lines[i]:
                i += 1
            i += 1
        elif line.startswith('|') and i + 1 < len(lines) and re.match(r'^\|[\s:|-]+\|\s*$', lines[i + 1]):
            rows = []
            while i < len(lines) and lines[i].startswith('|'):
                rows.append(_split_pipes(lines[i]))
                i += 1
            out += [row.replace('\0', '|') for row in _table(rows)]
        elif not line.strip():
            if out and out[-1] != '':
                out.append('')
            i += 1
        else:
            block = []
            while i < len(lines) and lines[i].strip() and not re.match(r'^(\s*```|#{1,4}\s|<!--|\|)', lines[i]):
                block.append(lines[i])
                i += 1
            if not block:  # a line starting with | that opens no table
                block, i = [line], i + 1
            out += inline('\n'.join(block)).split('\n')
    text = '\n'.join(out).rstrip('\n') + '\n'
    return re.sub(r'\n{3,}', '\n\n', text)


def pages():
    """{file name under docs/docsite/rst: text} for every guide."""
    result = {}
    for name in GUIDES:
        with open(os.path.join(DOCS, name + '.md'), encoding='utf-8') as handle:
            result[name + '.rst'] = convert(name, handle.read())
    return result


def main():
    os.makedirs(RST_DIR, exist_ok=True)
    for filename, text in pages().items():
        with open(os.path.join(RST_DIR, filename), 'w', encoding='utf-8') as handle:
            handle.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
