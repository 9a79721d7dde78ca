-- GB/T 2260 codes of the deployment's home region (Yunnan, 楚雄州 and its county-level units).
INSERT INTO ref.admin_divisions (code, name_zh, name_en, level, parent_code) VALUES
    ('530000', '云南省', 'Yunnan', 'province', NULL),
    ('532300', '楚雄彝族自治州', 'Chuxiong Yi Autonomous Prefecture', 'prefecture', '530000'),
    ('532301', '楚雄市', 'Chuxiong', 'city', '532300'),
    ('532302', '禄丰市', 'Lufeng', 'city', '532300'),
    ('532322', '双柏县', 'Shuangbai', 'county', '532300'),
    ('532323', '牟定县', 'Mouding', 'county', '532300'),
    ('532324', '南华县', 'Nanhua', 'county', '532300'),
    ('532325', '姚安县', 'Yao''an', 'county', '532300'),
    ('532326', '大姚县', 'Dayao', 'county', '532300'),
    ('532327', '永仁县', 'Yongren', 'county', '532300'),
    ('532328', '元谋县', 'Yuanmou', 'county', '532300'),
    ('532329', '武定县', 'Wuding', 'county', '532300')
ON CONFLICT (code) DO NOTHING;
