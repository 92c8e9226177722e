<?xml version="1.0" encoding="UTF-8"?>
<!-- Makes an RSS 2.0 or Atom 1.0 feed readable when opened in a browser.
     Feed readers ignore it. Item HTML is not rendered (browsers' XSLT cannot un-escape it
     portably); titles, dates and links are enough to show what the feed is. The @…@ marks
     are filled in site.language as it is served (feedsvc.web.feeds). -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom">
  <xsl:output method="html" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <html lang="@LANG@">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="rss/channel/title | atom:feed/atom:title"/></title>
        <style>
          body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:46rem;padding:1rem}
          .note{background:#fff8d6;border-radius:4px;padding:.5rem .75rem}
          code{user-select:all;-webkit-user-select:all;overflow-wrap:anywhere}
          li{margin:.6rem 0} time{color:#666;font-size:.9rem;display:block}
        </style>
      </head>
      <body>
        <p class="note">@NOTE_BEFORE@
          <code><xsl:value-of select="rss/channel/atom:link[@rel='self']/@href
            | atom:feed/atom:link[@rel='self']/@href"/></code>
          @NOTE_AFTER@</p>
        <xsl:apply-templates select="rss/channel | atom:feed"/>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="channel">
    <h1><a href="{link}"><xsl:value-of select="title"/></a></h1>
    <p><xsl:value-of select="description"/></p>
    <ul>
      <xsl:for-each select="item">
        <li><a href="{link}"><xsl:value-of select="title"/></a>
          <time><xsl:value-of select="pubDate"/></time></li>
      </xsl:for-each>
    </ul>
  </xsl:template>

  <xsl:template match="atom:feed">
    <h1><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h1>
    <p><xsl:value-of select="atom:subtitle"/></p>
    <ul>
      <xsl:for-each select="atom:entry">
        <li><a href="{atom:link[not(@rel) or @rel='alternate']/@href}">
            <xsl:value-of select="atom:title"/></a>
          <time><xsl:value-of select="atom:published"/></time></li>
      </xsl:for-each>
    </ul>
  </xsl:template>
</xsl:stylesheet>
